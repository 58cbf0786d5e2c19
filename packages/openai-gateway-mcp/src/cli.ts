#!/usr/bin/env node
/**
 * openai-gateway-mcp: a thin launcher. Parse flags (each overrides its environment variable), start
 * the server on stdio even when unconfigured, exit 0 when stdin closes or on SIGINT/SIGTERM.
 * stdout carries MCP messages only; everything else goes to stderr.
 */
import { parseFlags } from "./flags.ts";
import { createServer } from "./server.ts";
import { readSettings } from "./settings.ts";
import { StdioTransport } from "./stdio-transport.ts";
import { VERSION } from "./version.ts";

async function main(): Promise<void> {
  const flags = await parseFlags(process.argv.slice(2));
  const result = readSettings(flags, process.env);
  const { server, log, cleanup } = createServer(result);
  if (!result.ok) {
    for (const p of result.problems) log.error(`not configured: ${p}`);
    log.warn("starting anyway: tools can be listed; calls will report what is missing");
  }

  let closing = false;
  const shutdown = (why: string) => {
    if (closing) return;
    closing = true;
    log.debug(`shutting down (${why})`);
    cleanup().finally(() => process.exit(0));
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));

  const transport = new StdioTransport({ onRefused: (problem) => log.warn(problem) });
  // The transport closes when stdin ends (set before connect: the SDK keeps it and adds its own).
  transport.onclose = () => shutdown("stdin closed");
  await server.connect(transport);
  log.info(`openai-gateway-mcp ${VERSION} ready on stdio`, result.ok ? { gateway: result.settings.gatewayUrl, defaultModel: result.settings.defaultModel } : undefined);
}

main().catch((err: unknown) => {
  process.stderr.write(`openai-gateway-mcp: ${(err as Error)?.message ?? err}\n`);
  process.exit(1);
});
