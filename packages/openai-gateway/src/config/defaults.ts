import type { RetrySettings, Timeouts } from "./types.ts";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8080;
export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1";
export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
/** OpenAI's own limit on an audio file. */
export const DEFAULT_UPLOAD_LIMIT_BYTES = 25 * 1024 * 1024;
// Far above any chat or embeddings answer, low enough that a runaway upstream cannot exhaust memory.
export const DEFAULT_RESPONSE_LIMIT_BYTES = 32 * 1024 * 1024;
export { DEFAULT_JSON_DEPTH_LIMIT } from "@mcpgw/openai-protocol";
// nginx's client_header_timeout, client_body_timeout and keepalive_timeout.
export const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 75_000;
// A body that keeps trickling in, a byte at a time inside bodyTimeoutMs, is still cut here (Node's default).
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
export const DEFAULT_SHUTDOWN_GRACE_MS = 30_000;

// Generous first-byte and total limits: a non-streaming completion sends its headers only when the
// whole answer is ready, which for long reasoning answers takes minutes.
export const DEFAULT_TIMEOUTS: Timeouts = {
  connectMs: 10_000,
  firstByteMs: 300_000,
  idleMs: 60_000,
  totalMs: 600_000,
};

// openai-node's rule: 0.5 s doubling to 8 s, Retry-After honoured up to 60 s.
export const DEFAULT_RETRY: RetrySettings = {
  maxAttempts: 3,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
};

export const DEMO_MODEL = "mcpgw-offline-demo";

// The tool loop: how many rounds of tool calls before the model must answer, how much of a tool's
// output it reads, how often a stream shows it is alive while tools run (proxies cut idle streams
// after 30-60 s; 5 s is well inside any of them).
export const DEFAULT_MAX_TOOL_ROUNDS = 8;
export const DEFAULT_TOOL_RESULT_LIMIT_BYTES = 64 * 1024;
export const DEFAULT_TOOL_KEEPALIVE_MS = 5_000;
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;

/** The model served with every MCP tool when MCP servers are configured; it runs on MCP_MODEL. */
export const MCP_GATEWAY_MODEL = "mcp-gateway";
export const DEFAULT_MCP_MODEL = "gpt-4o-mini";

// Chat sessions: kept a week after their last message, a long conversation's worth of messages, and
// enough sessions per key for a bot with many users without letting one key fill the disk.
export const DEFAULT_DATA_DIR = ".mcpgw-data";
/** Tokens reserved for an answer when the request sets no max_tokens: settled to the real count once it ends. */
export const DEFAULT_COMPLETION_ESTIMATE = 1024;
export const DEFAULT_CHAT_STORE = "chat.sqlite";
export const DEFAULT_CHAT_TTL = "7d";
export const DEFAULT_CHAT_MAX_MESSAGES = 200;
export const DEFAULT_CHAT_MAX_SESSIONS_PER_KEY = 1000;

// Limits: a request's lease outlives a crashed replica by this much at most (renewed every third of
// it while the request runs); usage records are kept a quarter, long enough for any monthly bill.
export const DEFAULT_LEASE_TTL = "30s";
export const DEFAULT_USAGE_RETENTION = "90d";
