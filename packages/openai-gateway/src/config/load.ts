/**
 * Builds the GatewayConfig once, at start, from a config file (full case) or the environment
 * (simple case). Every problem becomes a ConfigError that names the field.
 */
import { resolve } from "node:path";
import { clientsFrom } from "./client-keys.ts";
import {
  DEFAULT_CHAT_MAX_MESSAGES,
  DEFAULT_CHAT_MAX_SESSIONS_PER_KEY,
  DEFAULT_CHAT_STORE,
  DEFAULT_CHAT_TTL,
  DEFAULT_COMPLETION_ESTIMATE,
  DEFAULT_DATA_DIR,
  DEFAULT_LEASE_TTL,
  DEFAULT_USAGE_RETENTION,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_UPLOAD_LIMIT_BYTES,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_JSON_DEPTH_LIMIT,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_RESPONSE_LIMIT_BYTES,
  DEFAULT_RETRY,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_TIMEOUTS,
  DEFAULT_MCP_MODEL,
  DEFAULT_TOOL_KEEPALIVE_MS,
  DEFAULT_TOOL_RESULT_LIMIT_BYTES,
} from "./defaults.ts";
import { mcpServersFrom } from "./mcp-servers.ts";
import type { McpServerConfig } from "../mcp/clients/types.ts";
import { checkConfig, readConfigFile } from "./file.ts";
import { routingFromEnv, routingFromFile } from "./routing.ts";
import { readTls } from "./tls.ts";
import type { ConfigFile } from "./schema.ts";
import { ConfigError, type ChatSettings, type GatewayConfig, type LogFormat, type LogLevel, type ToolModelSettings, type UsageSettings } from "./types.ts";

export { sha256 } from "./client-keys.ts";

export interface LoadOptions {
  file?: string | undefined;
  /** --data-dir (else GATEWAY_DATA_DIR, else the file's dataDir, else .mcpgw-data), relative to the working directory. */
  dataDir?: string | undefined;
  /** A config built in code instead of a file (the `tools` command), checked the same way. */
  inline?: { config: object; describedAs: string } | undefined;
  /** A plain {"mcpServers": {...}} file (--mcp-config, else MCP_CONFIG). */
  mcpFile?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  env: Record<string, string | undefined>;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function loadConfig(opts: LoadOptions): GatewayConfig {
  const { env } = opts;
  const file = opts.file ? readConfigFile(opts.file, env) : opts.inline ? checkConfig(opts.inline.config, env, opts.inline.describedAs) : undefined;
  const server = file?.server;
  const mcpServers = mcpServersFrom(file?.mcpServers, opts.mcpFile ?? nonEmpty(env.MCP_CONFIG), env);
  const mcp = { servers: mcpServers.length > 0, model: nonEmpty(env.MCP_MODEL) ?? DEFAULT_MCP_MODEL };
  const { modelLimits, ...routing } = file ? routingFromFile(file, mcp) : routingFromEnv(env, mcp);
  checkToolSelectors(routing.toolModels, mcpServers);
  const host = opts.host ?? env.HOST ?? server?.host ?? DEFAULT_HOST;
  const clients = clientsFrom(file, env);
  if (clients.length === 0 && !isLoopback(host)) {
    throw new ConfigError(
      `no client keys are configured, so the gateway refuses to listen on ${host}: ` +
        "set GATEWAY_API_KEYS (comma-separated) or `clients` in the config file, or listen on 127.0.0.1",
    );
  }
  const dataDir = resolve(opts.dataDir ?? nonEmpty(env.GATEWAY_DATA_DIR) ?? file?.dataDir ?? DEFAULT_DATA_DIR);
  return {
    server: {
      host,
      port: opts.port ?? parsePort(env.PORT) ?? server?.port ?? DEFAULT_PORT,
      bodyLimitBytes: server?.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      uploadLimitBytes: server?.uploadLimitBytes ?? DEFAULT_UPLOAD_LIMIT_BYTES,
      responseLimitBytes: server?.responseLimitBytes ?? DEFAULT_RESPONSE_LIMIT_BYTES,
      jsonDepthLimit: server?.jsonDepthLimit ?? DEFAULT_JSON_DEPTH_LIMIT,
      headersTimeoutMs: server?.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: server?.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
      requestTimeoutMs: server?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: server?.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
      shutdownGraceMs: server?.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
      tls: readTls(server?.tls),
      // As the browser sends it in Origin: no trailing slash.
      corsOrigins: server?.cors?.origins.map((o) => (o === "*" ? o : new URL(o).origin)),
    },
    logLevel: pickLogLevel(env.LOG_LEVEL ?? file?.logLevel),
    logFormat: pickLogFormat(env.LOG_FORMAT),
    ...routing,
    clients,
    mcpServers,
    tools: {
      resultLimitBytes: file?.tools.resultLimitBytes ?? DEFAULT_TOOL_RESULT_LIMIT_BYTES,
      keepaliveMs: file?.tools.keepaliveMs ?? DEFAULT_TOOL_KEEPALIVE_MS,
      publicDocs: file?.tools.publicDocs ?? false,
    },
    chat: chatSettings(file?.chat, dataDir),
    limits: {
      store: file?.limits.store ?? nonEmpty(env.REDIS_URL) ?? "memory",
      defaults: file?.limits.defaults,
      models: modelLimits ?? new Map(),
      completionEstimate: file?.limits.completionEstimate ?? DEFAULT_COMPLETION_ESTIMATE,
      expectedReplicas: file?.limits.expectedReplicas ?? 1,
      leaseTtlMs: durationMs(file?.limits.leaseTtl ?? DEFAULT_LEASE_TTL),
      prices: file?.prices ?? {},
    },
    usage: usageSettings(file?.usage, dataDir),
    dataDir,
    timeouts: { ...DEFAULT_TIMEOUTS, ...file?.timeouts },
    retry: { ...DEFAULT_RETRY, ...file?.retry },
  };
}

function usageSettings(usage: ConfigFile["usage"] | undefined, dataDir: string): UsageSettings {
  const store = usage?.store ?? "sqlite";
  return { store: store === "sqlite" ? resolve(dataDir, "usage.db") : store, retentionMs: durationMs(usage?.retention ?? DEFAULT_USAGE_RETENTION) };
}

function chatSettings(chat: ConfigFile["chat"] | undefined, dataDir: string): ChatSettings {
  const store = chat?.store ?? DEFAULT_CHAT_STORE;
  return {
    model: chat?.model,
    store: store === ":memory:" ? store : resolve(dataDir, store),
    ttlMs: durationMs(chat?.ttl ?? DEFAULT_CHAT_TTL),
    maxMessages: chat?.maxMessages ?? DEFAULT_CHAT_MAX_MESSAGES,
    maxSessionsPerKey: chat?.maxSessionsPerKey ?? DEFAULT_CHAT_MAX_SESSIONS_PER_KEY,
  };
}

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `7d`, `12h`, `30m`, `90s` or seconds (the schema has checked the shape). Four units need no library. */
export function durationMs(value: number | string): number {
  if (typeof value === "number") return value * 1000;
  const m = /^\s*(\d+)\s*([smhd])\s*$/i.exec(value)!;
  return Number(m[1]) * UNIT_MS[m[2]!.toLowerCase() as keyof typeof UNIT_MS];
}

/** A tool model's selectors name servers that exist (or `*`). */
function checkToolSelectors(models: Map<string, ToolModelSettings>, servers: McpServerConfig[]): void {
  const names = new Set(servers.map((s) => s.name));
  for (const [model, settings] of models) {
    for (const [i, selector] of settings.selectors.entries()) {
      const server = selector.split("/")[0]!;
      if (server === "*" || names.has(server)) continue;
      const known = names.size > 0 ? `configured: ${[...names].join(", ")}` : "no mcpServers are configured";
      throw new ConfigError(`models.${model}.tools[${i}]: '${selector}' names no MCP server (${known})`);
    }
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`PORT: '${value}' is not a port number (0-65535)`);
  return n;
}

function pickLogFormat(value: string | undefined): LogFormat {
  if (value === undefined || value.trim() === "") return "auto";
  const format = value.trim().toLowerCase();
  if (format !== "json" && format !== "pretty" && format !== "auto") throw new ConfigError(`LOG_FORMAT: '${value}' is not one of json, pretty, auto`);
  return format;
}

function pickLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === "") return "info";
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL: '${value}' is not one of ${LOG_LEVELS.join(", ")}`);
  }
  return level as LogLevel;
}
