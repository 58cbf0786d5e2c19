/**
 * `openai-gateway tools [--port 8000] [--host HOST] [--api-key KEY] [--name NAME] -- COMMAND ARGS...`:
 * the one-line start mcpo users know. A gateway that serves one stdio MCP server's tools, and
 * nothing else: at /tools/{name}/..., with its docs at /tools/docs. The server is named after the
 * command (`npx -y @modelcontextprotocol/server-everything` is `everything`) unless --name says
 * otherwise. Without --api-key it listens on loopback only, like the gateway without client keys.
 */
import { isLoopback, loadConfig } from "./config/load.ts";
import { ConfigError, type GatewayConfig } from "./config/types.ts";

export interface ToolsCommand {
  config: GatewayConfig;
  server: string;
}

export async function parseToolsCommand(argv: string[], env: Record<string, string | undefined>, version: string): Promise<ToolsCommand> {
  const dashDash = argv.indexOf("--");
  const own = dashDash < 0 ? argv : argv.slice(0, dashDash);
  const command = dashDash < 0 ? [] : argv.slice(dashDash + 1);
  const { default: yargs } = await import("yargs");
  const flags = await yargs(own)
    .scriptName("openai-gateway tools")
    .usage("$0 [--port 8000] [--host HOST] [--api-key KEY] [--name NAME] -- COMMAND ARGS...\n\nServes one stdio MCP server's tools as REST endpoints with OpenAPI docs, as mcpo does.")
    .option("port", { alias: "p", type: "number", default: 8000, describe: "Port to listen on" })
    .option("host", { type: "string", default: "127.0.0.1", describe: "Address to listen on (anything but loopback needs --api-key)" })
    .option("api-key", { type: "string", describe: "The key clients send as Authorization: Bearer; without one, anyone on this machine may call the tools" })
    .option("name", { type: "string", describe: "The server's name in the URLs (default: from the command)" })
    .example("$0 -- npx -y @modelcontextprotocol/server-everything", "tools at /tools/everything/..., docs at /tools/docs")
    .version(version)
    .strict()
    .help()
    .parseAsync();
  if (command.length === 0) throw new ConfigError("tools: give the MCP server's command after --, e.g. `openai-gateway tools -- npx -y @modelcontextprotocol/server-everything`");
  if (!flags["api-key"] && !isLoopback(flags.host)) {
    throw new ConfigError(`tools: without --api-key anyone could call these tools, so they are served on loopback only: give --api-key KEY to listen on ${flags.host}`);
  }
  const server = flags.name ?? serverNameFor(command);
  const config = loadConfig({
    inline: { config: { server: { host: flags.host, port: flags.port }, mcpServers: { [server]: { command: command[0], args: command.slice(1) } } }, describedAs: "the tools command" },
    // The key is a client key of the simple case: it may use every tool. Nothing else is read from the environment.
    env: { GATEWAY_API_KEYS: flags["api-key"], LOG_LEVEL: env.LOG_LEVEL, LOG_FORMAT: env.LOG_FORMAT },
  });
  return { config, server };
}

const LAUNCHERS = new Set(["npx", "uvx", "pipx", "bunx", "bun", "deno", "node", "python", "python3", "uv", "run", "docker", "pnpm", "dlx", "yarn", "exec"]);

/**
 * The server's name from its command: the first word that is not a launcher or a flag, without its
 * scope, version, extension and the usual prefixes and suffixes. `npx -y @modelcontextprotocol/server-everything`
 * is `everything`, `uvx mcp-server-fetch` is `fetch`, `python weather.py` is `weather`.
 */
export function serverNameFor(command: string[]): string {
  // A launcher may be given by its path (`/usr/bin/node`, `C:\...\npx.exe`).
  const launcher = (w: string) => LAUNCHERS.has(w.split(/[\\/]/).pop()!.replace(/\.(exe|cmd)$/i, ""));
  const word = command.find((w) => !w.startsWith("-") && !launcher(w)) ?? command[0]!;
  // A path to a package's entry (`.../server-everything/dist/index.js`) is named after the package.
  const parts = word.split(/[\\/]/).filter(Boolean);
  while (parts.length > 1 && /^(index|main|cli|server)(\.(m?js|cjs|ts|py))?$|^(dist|build|lib|src|bin|out)$/.test(parts.at(-1)!)) parts.pop();
  const base = (parts.at(-1) ?? word).replace(/@[^@]*$/, (v) => (word.startsWith("@") && !word.includes("/") ? v : "")).replace(/\.(m?js|cjs|ts|py)$/, "");
  const name = base.replace(/^(mcp-server-|server-|mcp-)/, "").replace(/(-mcp-server|-mcp|-server)$/, "") || base;
  return name.replace(/[^\w.-]/g, "_").slice(0, 64) || "server";
}
