/**
 * The gateway's side of its MCP servers, as the rest of the gateway sees it: servers configured in
 * the `mcpServers` format, connected and supervised by a registry, their tools offered under
 * OpenAI-safe names (`{server}__{tool}`) and called with a timeout and cancellation.
 *
 * Nothing that imports this file loads the MCP SDK: the registry loads it only when it starts, so a
 * gateway without MCP servers pays nothing for it.
 */

/** One configured MCP server, resolved (`${ENV}` replaced, defaults applied) at start. */
export interface McpServerConfig {
  name: string;
  transport: StdioTransportConfig | HttpTransportConfig;
  /** Tools of this server never offered or called. */
  disabledTools: string[];
  /** Bound of one tool call (default 60000). */
  toolTimeoutMs: number;
  /** While a required server is not ready, /ready answers 503 (the gateway still serves). */
  required: boolean;
}

export interface StdioTransportConfig {
  type: "stdio";
  command: string;
  args: string[];
  /** Only these and PATH, HOME, LANG, TMPDIR reach the child: never the gateway's own environment. */
  env: Record<string, string>;
  cwd: string | undefined;
}

export interface HttpTransportConfig {
  /** streamable-http falls back to sse when the URL answers initialize with 400, 404 or 405. */
  type: "streamable-http" | "sse";
  url: string;
  /** Sent with every request (credentials included): never shown to clients or logged. */
  headers: Record<string, string>;
}

export type ServerState = "connecting" | "ready" | "failed" | "stopped";

/** What /ready shows of one server. */
export interface ServerStatus {
  name: string;
  state: ServerState;
  /** The transport in use (an sse fallback shows as "sse"). */
  transport: "stdio" | "streamable-http" | "sse";
  required: boolean;
  tools: number;
  /** The last connection or process failure, in words, scrubbed of the server's credentials. */
  lastError: string | undefined;
  /** Restarts or reconnects since start. */
  restarts: number;
}

/** One tool as offered to models. */
export interface CatalogTool {
  /** `{server}__{tool}`, rewritten to OpenAI's rule ^[a-zA-Z0-9_-]{1,64}$ (a short stable hash when too long or colliding). */
  name: string;
  server: string;
  /** The server's own name for it. */
  tool: string;
  title: string | undefined;
  description: string | undefined;
  /** JSON Schema of the arguments (an object schema). */
  inputSchema: Record<string, unknown>;
  outputSchema: Record<string, unknown> | undefined;
  annotations: { readOnlyHint?: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint?: boolean; title?: string } | undefined;
}

/** MCP's CallToolResult, as the server sent it (untrusted input: callers cap and summarise it). */
export interface ToolCallResult {
  content: Array<Record<string, unknown> & { type: string }>;
  structuredContent: unknown;
  isError: boolean;
}

export type ToolCallFailureKind = "unknown_tool" | "server_unavailable" | "timeout" | "cancelled" | "protocol_error";

/** A tool call that did not produce a result (a result with isError is not a failure: it is returned). */
export class ToolCallFailure extends Error {
  readonly kind: ToolCallFailureKind;
  readonly server: string | undefined;
  constructor(kind: ToolCallFailureKind, message: string, server?: string) {
    super(message);
    this.name = "ToolCallFailure";
    this.kind = kind;
    this.server = server;
  }
}

export interface ToolCallOptions {
  /** Aborted when the client leaves or the request's total timeout passes: the call is cancelled on the server (notifications/cancelled). */
  signal: AbortSignal;
  /** notifications/progress from the server for this call. */
  onProgress?: (progress: { progress: number; total?: number; message?: string }) => void;
}

/** A server's notifications/message (its own log), as it sent it: untrusted, scrubbed before it goes on. */
export interface ServerLog {
  level: string;
  logger?: string | undefined;
  data?: unknown;
}

/** What a tool call reports for metrics and the log line. */
export type ToolCallOutcome = "ok" | "tool_error" | ToolCallFailureKind;

export interface McpRegistry {
  /** Connects every server in parallel and returns at once; a server that never comes up never blocks another. */
  start(): void;
  statuses(): ServerStatus[];
  /** Every required server is ready (what /ready answers 200 for). */
  requiredReady(): boolean;
  /** The tools ready now that `selectors` grant (`server`, `server/tool`, `server/prefix*`, `*`), in a stable order. */
  tools(selectors: string[]): CatalogTool[];
  /** A tool by its public name, if its server is configured and the tool known. */
  find(name: string): CatalogTool | undefined;
  /** A ready server's connected SDK client, for what the registry does not wrap (its prompts and resources); undefined while it is not ready. */
  client(server: string): import("@modelcontextprotocol/sdk/client/index.js").Client | undefined;
  /** Calls a tool by its public name; rejects with ToolCallFailure, resolves with the server's result (isError included). */
  call(name: string, args: Record<string, unknown>, opts: ToolCallOptions): Promise<ToolCallResult>;
  /** Called with each log message a server sends (notifications/message); returns the unsubscribe. */
  onServerLog(listener: (server: string, log: ServerLog) => void): () => void;
  /** Called whenever a server's tool list changes (list_changed, a restart); returns the unsubscribe. */
  onToolsChanged(listener: () => void): () => void;
  /**
   * Takes a new list of servers (a config reload): added ones connect, removed ones are closed (their
   * processes ended as by close), changed ones restart, unchanged ones are left alone; listeners of
   * onToolsChanged hear of it. Returns what changed, for the log.
   */
  update(servers: McpServerConfig[], graceMs: number): Promise<{ added: string[]; removed: string[]; restarted: string[] }>;
  /** Closes every connection and ends every child process (SIGTERM, then SIGKILL after graceMs). */
  close(graceMs: number): Promise<void>;
}

/** A pino-like logger (the gateway's): object first, message second. */
export interface RegistryLog {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What the registry reports for the gateway's Prometheus metrics. */
export interface RegistryMetrics {
  serverUp(server: string, up: boolean): void;
  toolCall(server: string, tool: string, outcome: ToolCallOutcome, seconds: number): void;
}

export interface RegistryDeps {
  servers: McpServerConfig[];
  log: RegistryLog;
  metrics: RegistryMetrics;
}
