import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { GatewayProcess } from "./gateway-process.ts";

/** The bin of @modelcontextprotocol/server-everything as installed here (run with process.execPath: no npx, no network). */
export const SERVER_EVERYTHING = join(dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/package.json")), "dist", "index.js");

/** Waits until the gateway's /ready shows every MCP server ready. */
export async function waitForMcpServers(g: GatewayProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const ready = (await (await fetch(`${g.origin}/ready`)).json()) as { mcpServers?: { state: string }[] };
    if (ready.mcpServers?.every((s) => s.state === "ready")) return;
    if (performance.now() > deadline) assert.fail(`MCP servers not ready: ${JSON.stringify(ready.mcpServers)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
