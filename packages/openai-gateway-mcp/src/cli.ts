#!/usr/bin/env node
/**
 * openai-gateway-mcp: a thin launcher. Parse flags (each overrides its environment variable), start
 * the server on stdio even when unconfigured, exit 0 when stdin closes or on SIGINT/SIGTERM.
 * stdout carries MCP messages only; everything else goes to stderr. With --transport http it
 * serves Streamable HTTP instead (http-server.ts), and stdin means nothing to it.
 */
import { parseFlags } from "./flags.ts";
import { serveHttp } from "./http-server.ts";
import { Logger } from "./log.ts";
import { createServer } from "./server.ts";
import { readListen, readSettings, type ListenSettings, type SettingsResult } from "./settings.ts";
import { StdioTransport } from "./stdio-transport.ts";
import { VERSION } from "./version.ts";

async function main(): Promise<void> {
  const flags = await parseFlags(process.argv.slice(2));
  const listen = readListen(flags, process.env);
  const result = readSettings(flags, process.env);
  const log = new Logger(result.ok ? result.settings.logLevel : result.logLevel);
  if (!result.ok) {
    for (const p of result.problems) log.error(`not configured: ${p}`);
    log.warn("starting anyway: tools can be listed; calls will report what is missing");
  }
  if (listen.transport === "http") return serveOverHttp(listen, result, log);
  const { server, cleanup } = createServer(result, log);

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

/** Streamable HTTP until SIGINT/SIGTERM, which end the sessions (and their streams) first. */
async function serveOverHttp(listen: ListenSettings, result: SettingsResult, log: Logger): Promise<void> {
  const http = await serveHttp(listen, result, log);
  let closing = false;
  const shutdown = (why: string) => {
    if (closing) return;
    closing = true;
    log.info(`shutting down (${why})`);
    http.close().finally(() => process.exit(0));
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  log.info(`openai-gateway-mcp ${VERSION} listening on ${http.url}`, result.ok ? { gateway: result.settings.gatewayUrl, defaultModel: result.settings.defaultModel, keys: listen.apiKeys.length } : undefined);
}

main().catch((err: unknown) => {
  process.stderr.write(`openai-gateway-mcp: ${(err as Error)?.message ?? err}\n`);
  process.exit(1);
});
