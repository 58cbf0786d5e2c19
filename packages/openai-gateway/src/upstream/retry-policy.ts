/**
 * The one retry rule (after openai-node): retry 408, 409, 429, 5xx, connection errors and timeouts;
 * wait what `retry-after-ms` / `retry-after` ask when it is sane (0..cap), else exponential backoff
 * with jitter.
 */
import type { RetrySettings } from "../config/types.ts";
import type { UpstreamHeaders } from "./types.ts";

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** A failed target is worth trying the next one for unless the request itself was at fault. */
export function isClientFault(status: number): boolean {
  return status === 400 || status === 413 || status === 415 || status === 422;
}

/** Delay before retry number `retry` (1 = first retry). */
export function retryDelayMs(retry: number, headers: UpstreamHeaders | undefined, settings: RetrySettings): number {
  const asked = headers ? retryAfterMs(headers) : undefined;
  if (asked !== undefined && asked >= 0 && asked <= settings.maxRetryAfterMs) return asked;
  const backoff = Math.min(settings.baseDelayMs * 2 ** (retry - 1), settings.maxDelayMs);
  return backoff * (1 - Math.random() * 0.25);
}

function retryAfterMs(headers: UpstreamHeaders): number | undefined {
  const ms = first(headers["retry-after-ms"]);
  if (ms !== undefined && ms.trim() !== "" && Number.isFinite(Number(ms))) return Number(ms);
  const after = first(headers["retry-after"]);
  if (after === undefined || after.trim() === "") return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : date - Date.now();
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
