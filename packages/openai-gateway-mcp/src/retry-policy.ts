/**
 * Which failed gateway calls are retried, and after how long: connection errors, timeouts, 408,
 * 409, 429 and 5xx; the gateway's retry-after-ms / retry-after when sane, else jittered backoff
 * (0.5 s doubling to 8 s), the rule openai-node uses.
 */
import { APIConnectionError, APIError } from "openai/core/error";

const MAX_RETRY_AFTER_MS = 60_000;

export function isRetryable(err: unknown): boolean {
  if (err instanceof APIConnectionError) return true; // includes timeouts
  if (!(err instanceof APIError) || err.status === undefined) return false;
  const s = err.status;
  return s === 408 || s === 409 || s === 429 || s >= 500;
}

/** Delay before retry number `retry` (1 = first retry). */
export function retryDelayMs(err: unknown, retry: number): number {
  const headers = err instanceof APIError ? err.headers : undefined;
  const asked = headers ? retryAfterMs(headers) : undefined;
  if (asked !== undefined && asked >= 0 && asked <= MAX_RETRY_AFTER_MS) return asked;
  return Math.min(500 * 2 ** (retry - 1), 8_000) * (1 - Math.random() * 0.25);
}

function retryAfterMs(headers: Headers): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const after = headers.get("retry-after");
  if (!after) return undefined;
  if (Number.isFinite(Number(after))) return Number(after) * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : date - Date.now();
}
