#!/usr/bin/env node
// A committed launcher for the built CLI. npm links a workspace's bins at install time, before
// dist/ exists, and silently skips a bin whose file is missing; this file is always there.
import { existsSync } from "node:fs";

const cli = new URL("../dist/cli.js", import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write("openai-gateway-mcp: not built yet; run `npm run build` in the repository first\n");
  process.exit(1);
}
await import(cli.href);
