#!/usr/bin/env node
/**
 * openai-gateway [--config FILE] [--host HOST] [--port PORT] [--watch]
 * openai-gateway tools [--port 8000] [--api-key KEY] [--name NAME] -- COMMAND ARGS...
 * openai-gateway chat [--url URL] [--key KEY] [--model NAME]
 * A thin launcher: parse flags, load and check the config once, listen, drain on SIGTERM/SIGINT.
 * SIGHUP (and --watch, on a change of the config files) loads the config again and hands its
 * mcpServers to the gateway; a config that does not load is rejected and the running one stays.
 * `tools` is the one-line start mcpo users know: one stdio MCP server's tools, nothing else.
 * `chat` is a client, not a server: a terminal chat with a running gateway over its /chat API.
 */
import { watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { loadConfig } from "./config/load.ts";
import { DEMO_MODEL } from "./config/defaults.ts";
import { ConfigError, type GatewayConfig } from "./config/types.ts";
import { createGateway } from "./app.ts";
import { parseToolsCommand } from "./tools-command.ts";
import { VERSION } from "./version.ts";

const version = VERSION;
/** An editor's save is often several events (write, rename, chmod): one reload after the last. */
const WATCH_DEBOUNCE_MS = 300;
const RESTART_NEEDED = "only mcpServers is reloaded; other settings need a restart";

async function main(): Promise<void> {
  const args = hideBin(process.argv);
  if (args[0] === "tools") {
    const { config, server } = await parseToolsCommand(args.slice(1), process.env, version);
    return serve(config, { tools: server, watch: false, watched: [] });
  }
  if (args[0] === "chat") {
    // Loaded only here: the server never needs the terminal client's code.
    const { runChatCommand } = await import("./chat-cli/command.ts");
    process.exitCode = await runChatCommand(args.slice(1), process.env, version);
    return;
  }
  const argv = await yargs(args)
    .scriptName("openai-gateway")
    .usage(
      "$0 [--config FILE] [--host HOST] [--port PORT]\n\nAn OpenAI-compatible gateway that holds the upstream keys.\n\n" +
        "Also: $0 tools -- COMMAND ARGS... (one MCP server's tools as REST), $0 chat (a terminal chat with a running gateway).",
    )
    .option("config", { alias: "c", type: "string", describe: "YAML or JSON config file (providers, model aliases, client keys)" })
    .option("mcp-config", { type: "string", describe: "A {\"mcpServers\": {...}} JSON file (Claude Desktop, mcpo) [env MCP_CONFIG]" })
    .option("host", { type: "string", describe: "Address to listen on [env HOST, default 127.0.0.1]" })
    .option("port", { alias: "p", type: "number", describe: "Port to listen on [env PORT, default 8080]" })
    .option("data-dir", { type: "string", describe: "Where the gateway keeps its files (chat sessions, usage records) [env GATEWAY_DATA_DIR, default .mcpgw-data]" })
    .option("watch", {
      type: "boolean",
      describe: "Reload mcpServers when the --config or --mcp-config file changes, as SIGHUP does (other settings need a restart)",
    })
    .epilog(
      "Environment (simple case): OPENAI_API_KEY, OPENAI_BASE_URL, GATEWAY_API_KEYS, HOST, PORT, LOG_LEVEL, LOG_FORMAT, MCP_CONFIG, MCP_MODEL, GATEWAY_DATA_DIR, REDIS_URL.\n" +
        "With no upstream configured, the offline demo model '" + DEMO_MODEL + "' answers.",
    )
    .version(version)
    .strict()
    .help()
    .parseAsync();

  if (argv.port !== undefined && (!Number.isInteger(argv.port) || argv.port < 0 || argv.port > 65535)) {
    throw new ConfigError(`--port: '${argv.port}' is not a port number (0-65535)`);
  }
  // A reload reads the files again with the environment the process started with.
  const env = { ...process.env };
  const mcpFile = argv["mcp-config"] ?? (env.MCP_CONFIG?.trim() || undefined);
  const load = () => loadConfig({ file: argv.config, mcpFile, host: argv.host, port: argv.port, dataDir: argv["data-dir"], env });
  await serve(load(), { load, watch: argv.watch === true, watched: [argv.config, mcpFile].filter((f) => f !== undefined) });
}

interface ServeOptions {
  /** Reads the config again, for SIGHUP and --watch; without it SIGHUP changes nothing. */
  load?: () => GatewayConfig;
  watch: boolean;
  watched: string[];
  /** The `tools` command: the one MCP server served, and no /v1. */
  tools?: string;
}

async function serve(config: GatewayConfig, opts: ServeOptions): Promise<void> {
  const { load } = opts;
  const gateway = createGateway(config, { toolsOnly: opts.tools !== undefined });
  const log = gateway.app.log;

  let stopping = false;
  const reload = (trigger: string) => {
    if (stopping) return;
    if (!load) {
      log.info({ trigger }, "nothing to reload: this gateway has no config file");
      return;
    }
    let servers: typeof config.mcpServers;
    try {
      servers = load().mcpServers;
    } catch (err) {
      log.error({ trigger }, `config reload rejected: ${err instanceof Error ? err.message : String(err)} (the running MCP servers stay)`);
      return;
    }
    gateway.reloadMcpServers(servers).then(
      (changes) => {
        const summary = (["added", "removed", "restarted"] as const).map((k) => `${k} ${changes[k].join(", ") || "none"}`).join("; ");
        log.info({ trigger, ...changes }, `config reloaded: MCP servers ${summary} (${RESTART_NEEDED})`);
      },
      (err: unknown) => log.error({ trigger, err }, "config reload failed"),
    );
  };
  process.on("SIGHUP", () => reload("SIGHUP"));
  const { watched } = opts;
  const unwatch = opts.watch ? watchFiles(watched, () => reload("watch"), (err) => log.warn({ err }, "--watch: watching a config file failed")) : () => {};
  if (opts.watch && watched.length === 0) log.warn("--watch: there is no --config or --mcp-config file to watch");

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    unwatch();
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
  if (opts.tools !== undefined) {
    if (config.clients.length === 0) {
      log.warn(`NO API KEY: anyone who can reach ${address} may call these tools. It listens on loopback only for that reason. Give --api-key to require one.`);
    }
    log.info(
      { address, mcpServer: opts.tools, docs: `${address}/tools/docs`, spec: `${address}/tools/${opts.tools}/openapi.json` },
      `openai-gateway ${version} tools listening on ${address}: the tools of '${opts.tools}' at ${address}/tools/${opts.tools}/{tool}, docs at ${address}/tools/docs`,
    );
    return;
  }
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

/**
 * Calls onChange once the files have been quiet for WATCH_DEBOUNCE_MS. Each file's folder is
 * watched, not the file: an editor that saves a new file and renames it over the old one leaves a
 * watch on the old file's inode hearing nothing more.
 */
function watchFiles(files: string[], onChange: () => void, onError: (err: Error) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const names = new Map<string, Set<string>>();
  for (const file of files.map((f) => resolve(f))) names.set(dirname(file), (names.get(dirname(file)) ?? new Set()).add(basename(file)));
  const watchers = [...names].map(([dir, inDir]) =>
    watch(dir, { persistent: false }, (_event, name) => {
      // No name: the platform did not say which file. `..data`: the symlink Kubernetes swaps to update a mounted ConfigMap.
      if (name !== null && !inDir.has(name) && name !== "..data") return;
      clearTimeout(timer);
      timer = setTimeout(onChange, WATCH_DEBOUNCE_MS);
    }).on("error", onError),
  );
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}

main().catch((err: unknown) => {
  // Config problems are the user's to fix: a plain message, no stack trace.
  const message = err instanceof ConfigError ? `openai-gateway: ${err.message}` : `openai-gateway: failed to start: ${(err as Error)?.message ?? err}`;
  process.stderr.write(message + "\n");
  process.exit(1);
});
