/**
 * The one retry rule (after openai-node), for the gateway talking to its upstreams and for the MCP
 * server talking to the gateway: retry 408, 409, 429, 5xx, connection errors and timeouts; an
 * `x-should-retry` header overrides that either way; wait what `retry-after-ms`, then
 * `retry-after` (seconds or an HTTP date), ask when it is sane, else `min(base * 2^n, max)` less up
 * to 25 % jitter. A wait asked for beyond the cap means the failure will not clear soon: no retry.
 */

/** Looks up one response header by its lower-case name. */
export type HeaderLookup = (name: string) => string | null | undefined;

export interface RetrySettings {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A retry-after longer than this is not waited for. */
  maxRetryAfterMs: number;
}

/** openai-node's numbers: 0.5 s doubling to 8 s, Retry-After honoured up to 60 s. */
export const OPENAI_RETRY: RetrySettings = { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** A failed attempt: an HTTP status with its headers, or none at all (connection error, timeout). */
export interface Failure {
  status?: number | undefined;
  header?: HeaderLookup | undefined;
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; why: "not retryable" | "x-should-retry: false" | "retry-after beyond the cap" | "attempts used up" };

/** Whether to retry after attempt number `attempt` (1 = the first) failed, and how long to wait. */
export function decideRetry(failure: Failure, attempt: number, settings: RetrySettings): RetryDecision {
  const told = failure.header ? shouldRetryHeader(failure.header) : undefined;
  if (told === false) return { retry: false, why: "x-should-retry: false" };
  if (told === undefined && failure.status !== undefined && !isRetryableStatus(failure.status)) return { retry: false, why: "not retryable" };
  if (attempt >= settings.maxAttempts) return { retry: false, why: "attempts used up" };
  const asked = failure.header ? retryAfterMs(failure.header) : undefined;
  if (asked !== undefined && asked > settings.maxRetryAfterMs) return { retry: false, why: "retry-after beyond the cap" };
  if (asked !== undefined && asked >= 0) return { retry: true, delayMs: asked };
  return { retry: true, delayMs: backoffMs(attempt, settings) };
}

/** `x-should-retry: true|false`, as OpenAI's API and this gateway send it; undefined when absent. */
export function shouldRetryHeader(header: HeaderLookup): boolean | undefined {
  const v = header("x-should-retry")?.trim().toLowerCase();
  return v === "true" ? true : v === "false" ? false : undefined;
}

/** The wait a response asks for, in ms (negative for a date in the past); undefined when it asks none readably. */
export function retryAfterMs(header: HeaderLookup, now = Date.now()): number | undefined {
  const ms = header("retry-after-ms")?.trim();
  if (ms && Number.isFinite(Number(ms))) return Number(ms);
  const after = header("retry-after")?.trim();
  if (!after) return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : date - now;
}

/** Backoff before retry number `retry` (1 = the first retry), with up to 25 % jitter. */
export function backoffMs(retry: number, settings: Pick<RetrySettings, "baseDelayMs" | "maxDelayMs">, random = Math.random): number {
  return Math.min(settings.baseDelayMs * 2 ** (retry - 1), settings.maxDelayMs) * (1 - random() * 0.25);
}

/** A header lookup over a plain record, as undici and node:http give headers. */
export function recordLookup(headers: Record<string, string | string[] | undefined>): HeaderLookup {
  return (name) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
}
