#!/usr/bin/env node
/**
 * openai-gateway [--config FILE] [--host HOST] [--port PORT]
 * A thin launcher: parse flags, load and check the config once, listen, drain on SIGTERM/SIGINT.
 */
import { createRequire } from "node:module";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { loadConfig } from "./config/load.ts";
import { DEMO_MODEL } from "./config/defaults.ts";
import { ConfigError } from "./config/types.ts";
import { createGateway } from "./app.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };

async function main(): Promise<void> {
  const argv = await yargs(hideBin(process.argv))
    .scriptName("openai-gateway")
    .usage("$0 [--config FILE] [--host HOST] [--port PORT]\n\nAn OpenAI-compatible gateway that holds the upstream keys.")
    .option("config", { alias: "c", type: "string", describe: "YAML or JSON config file (providers, model aliases, client keys)" })
    .option("mcp-config", { type: "string", describe: "A {\"mcpServers\": {...}} JSON file (Claude Desktop, mcpo) [env MCP_CONFIG]" })
    .option("host", { type: "string", describe: "Address to listen on [env HOST, default 127.0.0.1]" })
    .option("port", { alias: "p", type: "number", describe: "Port to listen on [env PORT, default 8080]" })
    .epilog(
      "Environment (simple case): OPENAI_API_KEY, OPENAI_BASE_URL, GATEWAY_API_KEYS, HOST, PORT, LOG_LEVEL, LOG_FORMAT, MCP_CONFIG, MCP_MODEL.\n" +
        "With no upstream configured, the offline demo model '" + DEMO_MODEL + "' answers.",
    )
    .version(version)
    .strict()
    .help()
    .parseAsync();

  if (argv.port !== undefined && (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65535)) {
    throw new ConfigError(`--port: '${argv.port}' is not a port number (0-65535)`);
  }
  const config = loadConfig({ file: argv.config, mcpFile: argv["mcp-config"], host: argv.host, port: argv.port, env: process.env });
  const gateway = createGateway(config);
  const log = gateway.app.log;

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceMs: config.server.shutdownGraceMs }, "shutting down: no new connections, open requests may finish");
    const force = setTimeout(() => {
      log.warn("grace period over: closing the remaining connections");
      gateway.app.server.closeAllConnections();
    }, config.server.shutdownGraceMs);
    force.unref();
    gateway.close().then(
      () => {
        log.info("stopped");
        gateway.flushLogs();
        process.exit(0);
      },
      (err) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));

  const address = await gateway.app.listen({ host: config.server.host, port: config.server.port });
  if (config.clients.length === 0) {
    log.warn(
      `NO CLIENT KEYS CONFIGURED: anyone who can reach ${address} may use this gateway. ` +
        "It listens on loopback only for that reason. Set GATEWAY_API_KEYS to require keys.",
    );
  }
  if (config.demo) {
    log.warn(`OFFLINE DEMO: no upstream is configured (OPENAI_API_KEY, OPENAI_BASE_URL or --config), so the demo model '${DEMO_MODEL}' answers.`);
  }
  log.info(
    {
      address,
      providers: config.providers.map((p) => p.name),
      models: [...config.aliases.keys()],
      passthrough: config.passthrough,
      clients: config.clients.map((c) => c.name),
      ...(config.mcpServers.length > 0 ? { mcpServers: config.mcpServers.map((s) => s.name) } : {}),
    },
    `openai-gateway ${version} listening on ${address}`,
  );
}

main().catch((err: unknown) => {
  // Config problems are the user's to fix: a plain message, no stack trace.
  const message = err instanceof ConfigError ? `openai-gateway: ${err.message}` : `openai-gateway: failed to start: ${(err as Error)?.message ?? err}`;
  process.stderr.write(message + "\n");
  process.exit(1);
});
