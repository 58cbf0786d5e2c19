import type { RetrySettings, Timeouts } from "./types.ts";

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8080;
export const DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1";
export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
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
