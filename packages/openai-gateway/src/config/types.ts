/** The validated, resolved configuration that the composition root receives. Nothing reads process.env after start. */
import type { McpServerConfig } from "../mcp/clients/types.ts";
export type ProviderType = "openai" | "azure" | "demo";

/**
 * One upstream and its credentials. Only the provider clients (upstream/) are built from this:
 * everything a route, an error or a log line can reach names a provider by `name` alone.
 */
export interface ProviderConfig {
  name: string;
  type: ProviderType;
  /** openai: base URL including /v1; azure: the resource endpoint. */
  baseUrl: string;
  apiKey: string | undefined;
  apiVersion: string;
  headers: Record<string, string>;
  /** Ask for usage on streams (stream_options.include_usage) unless the client did. */
  streamUsage: boolean;
}

export interface Target {
  /** The provider's name. */
  provider: string;
  /** The model name sent upstream (the deployment name for Azure). */
  model: string;
}

export interface ClientKey {
  name: string;
  /** sha256 of the key; the key itself is never kept. */
  hash: Buffer;
  /** Model name patterns: exact names, `prefix*`, or `*`. */
  models: string[];
  /** The MCP tools this key may call itself (REST /tools): tool selectors. */
  tools: string[];
  /** Its own limits; undefined: `limits.defaults`. */
  limits?: KeyLimits | undefined;
  budget?: Budget | undefined;
  /** Reads every key's usage and opens /dashboard. */
  admin: boolean;
}

export interface Budget {
  usd: number;
  period: "day" | "week" | "month" | "total";
}

export interface KeyLimits {
  rpm?: number | undefined;
  tpm?: number | undefined;
  concurrency?: number | undefined;
}

export interface LimitSettings {
  /** "memory", or a redis:// URL shared by replicas. */
  store: string;
  defaults: KeyLimits | undefined;
  /** Limits of a model itself (`models.NAME.limits`), shared by every key. */
  models: Map<string, KeyLimits>;
  /** Tokens reserved for an answer whose request names no max_tokens. */
  completionEstimate: number;
  expectedReplicas: number;
  leaseTtlMs: number;
  /** USD per 1M tokens by model name (over the built-in table); `*` for every other model. */
  prices: Record<string, { input: number; output: number; cachedInput?: number | undefined }>;
}

export interface UsageSettings {
  /** "off", an absolute path of the SQLite file, or a postgres:// URL. */
  store: string;
  retentionMs: number;
}

export interface ServerSettings {
  host: string;
  port: number;
  bodyLimitBytes: number;
  /** Largest multipart upload (audio transcriptions and translations), spooled to disk as it arrives. */
  uploadLimitBytes: number;
  /** The largest non-streaming upstream answer held in memory. */
  responseLimitBytes: number;
  jsonDepthLimit: number;
  headersTimeoutMs: number;
  /** The longest gap between two pieces of a request body. */
  bodyTimeoutMs: number;
  /** The whole request (headers and body), however it trickles in. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  shutdownGraceMs: number;
  /** PEM texts, read at start; the gateway serves HTTPS when set. */
  tls: { cert: string; key: string } | undefined;
  /** Browser origins allowed to call the gateway; undefined: no CORS headers at all. */
  corsOrigins: string[] | undefined;
}

export interface Timeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
  totalMs: number;
}

export interface RetrySettings {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

/** What makes a model tool-enabled: the MCP tools it is offered, and how its loop runs. */
export interface ToolModelSettings {
  /** `server`, `server/tool`, `server/prefix*`, `*`. */
  selectors: string[];
  instructions: string | undefined;
  maxToolRounds: number;
  toolDisplay: "none" | "details";
}

export interface ToolSettings {
  /** Largest tool result fed to a model. */
  resultLimitBytes: number;
  /** Gap between SSE keepalive comments while tools run. */
  keepaliveMs: number;
  /** The specs and docs pages list every tool without a key. */
  publicDocs: boolean;
}

export interface ChatSettings {
  /** The model of a session that names none; undefined: mcp-gateway when it exists, else the key's only model. */
  model: string | undefined;
  /** An absolute path of the SQLite file, or ":memory:". */
  store: string;
  ttlMs: number;
  maxMessages: number;
  maxSessionsPerKey: number;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** json: one JSON object a line; pretty: readable lines; auto: pretty when stdout is a terminal. */
export type LogFormat = "json" | "pretty" | "auto";

export interface GatewayConfig {
  server: ServerSettings;
  logLevel: LogLevel;
  logFormat: LogFormat;
  providers: ProviderConfig[];
  /** Public model name -> targets, tried in order. */
  aliases: Map<string, Target[]>;
  /** The provider that serves model names no alias matches, by name. */
  passthrough: string | undefined;
  /** The aliases that run the tool loop, and how. */
  toolModels: Map<string, ToolModelSettings>;
  mcpServers: McpServerConfig[];
  tools: ToolSettings;
  chat: ChatSettings;
  limits: LimitSettings;
  usage: UsageSettings;
  /** Where the gateway keeps its files (the chat store), absolute. */
  dataDir: string;
  clients: ClientKey[];
  timeouts: Timeouts;
  retry: RetrySettings;
  /** True when no upstream is configured and the offline demo model serves instead. */
  demo: boolean;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
