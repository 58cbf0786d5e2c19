/**
 * The MCP servers: from the config file's `mcpServers` and from the file `--mcp-config` (or
 * MCP_CONFIG) names, a plain `{"mcpServers": {...}}` as Claude Desktop, mcpo and others write it
 * (only that key is read). A name in both is an error naming both places; so are two names that
 * would make the same tool names. `${ENV}` works in both files.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import type { McpServerConfig } from "../mcp/clients/types.ts";
import { checkServerNames } from "../mcp/tool-names.ts";
import { substituteEnv } from "./file.ts";
import { mcpConfigFileSchema, type McpServerEntry } from "./sections/mcp-servers.ts";
import { ConfigError } from "./types.ts";

export function mcpServersFrom(
  fromConfig: Record<string, McpServerEntry> | undefined,
  mcpFile: string | undefined,
  env: Record<string, string | undefined>,
): McpServerConfig[] {
  const entries = new Map<string, { entry: McpServerEntry; where: string }>();
  for (const [name, entry] of Object.entries(fromConfig ?? {})) entries.set(name, { entry, where: "the config file's mcpServers" });
  if (mcpFile) {
    for (const [name, entry] of Object.entries(readMcpFile(mcpFile, env))) {
      const before = entries.get(name);
      if (before) throw new ConfigError(`mcpServers.${name}: defined in ${before.where} and in ${mcpFile}; give it once`);
      entries.set(name, { entry, where: mcpFile });
    }
  }
  const servers = [...entries].filter(([, { entry }]) => !entry.disabled).map(([name, { entry }]) => resolve(name, entry));
  const clash = checkServerNames(servers.map((s) => s.name));
  if (clash) throw new ConfigError(`mcpServers: ${clash}`);
  return servers;
}

function readMcpFile(path: string, env: Record<string, string | undefined>): Record<string, McpServerEntry> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read the MCP config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let raw: unknown;
  try {
    raw = extname(path) === ".yaml" || extname(path) === ".yml" ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`the MCP config file ${path} is not valid ${extname(path).startsWith(".y") ? "YAML" : "JSON"}: ${(e as Error).message}`);
  }
  const value = raw && typeof raw === "object" ? { mcpServers: (raw as { mcpServers?: unknown }).mcpServers } : raw;
  const result = mcpConfigFileSchema.safeParse(substituteEnv(value, env, []));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new ConfigError(`the MCP config file ${path} is invalid (it needs {"mcpServers": {...}}):\n${lines.join("\n")}`);
  }
  return result.data.mcpServers;
}

function resolve(name: string, e: McpServerEntry): McpServerConfig {
  const type = e.type ?? e.transportType ?? (e.url !== undefined ? "streamable-http" : "stdio");
  const transport: McpServerConfig["transport"] =
    type === "stdio"
      ? { type: "stdio", command: e.command!, args: e.args, env: e.env, cwd: e.cwd }
      : { type: type === "sse" ? "sse" : "streamable-http", url: e.url!, headers: e.headers };
  return { name, transport, disabledTools: e.disabledTools, toolTimeoutMs: e.toolTimeoutMs, required: e.required };
}
