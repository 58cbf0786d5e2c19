/**
 * Per-key limits in this process: requests and tokens per minute by GCRA (the generic cell rate
 * algorithm: one "theoretical arrival time" per key and limit, no window whose edge lets twice the
 * limit through, as fixed windows do), and requests in flight as leases released exactly once.
 *
 * A request is admitted in one step against every limit of its key or against none: a request
 * refused for tokens has not spent a request either. Its tokens are reserved up front (an estimate:
 * the prompt's size and max_tokens) and settled to the real usage when it ends, so concurrent
 * requests cannot overshoot. Synchronous: the check and the reservation cannot interleave.
 */
import type { KeyLimits } from "../config/types.ts";

const MINUTE_MS = 60_000;

/** One limit's state after an admission: what OpenAI's x-ratelimit-* headers say. */
export interface LimitState {
  limit: number;
  remaining: number;
  /** Until the limit is whole again. */
  resetMs: number;
}

export type Refusal =
  | { kind: "requests" | "tokens"; limit: number; requested: number; used: number; retryAfterMs: number; hopeless: boolean }
  | { kind: "concurrency"; limit: number; used: number; retryAfterMs: number; hopeless: false };

export interface Admitted {
  requests: LimitState | undefined;
  tokens: LimitState | undefined;
  /** Ends the request: the lease goes back, the tokens settle to `usedTokens` (the estimate when unknown). Once only. */
  release(usedTokens: number | undefined): void;
}

interface KeyState {
  requestsTat: number;
  tokensTat: number;
  inFlight: number;
}

export class RateLimiter {
  readonly #keys = new Map<string, KeyState>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Admits one request of `key` that may use `estimate` tokens, or says which limit refuses it. */
  admit(key: string, limits: KeyLimits, estimate: number): Admitted | Refusal {
    const now = this.#now();
    const state = this.#keys.get(key) ?? { requestsTat: now, tokensTat: now, inFlight: 0 };
    if (limits.concurrency !== undefined && state.inFlight >= limits.concurrency) {
      return { kind: "concurrency", limit: limits.concurrency, used: state.inFlight, retryAfterMs: 1000, hopeless: false };
    }
    const requests = limits.rpm === undefined ? undefined : gcra(state.requestsTat, now, limits.rpm, 1);
    if (requests && !requests.ok) return { kind: "requests", limit: limits.rpm!, requested: 1, used: usedOf(state.requestsTat, now, limits.rpm!), retryAfterMs: requests.retryAfterMs, hopeless: false };
    const tokens = limits.tpm === undefined ? undefined : gcra(state.tokensTat, now, limits.tpm, estimate);
    if (tokens && !tokens.ok) {
      return { kind: "tokens", limit: limits.tpm!, requested: estimate, used: usedOf(state.tokensTat, now, limits.tpm!), retryAfterMs: tokens.retryAfterMs, hopeless: estimate > limits.tpm! };
    }
    if (requests) state.requestsTat = requests.tat;
    if (tokens) state.tokensTat = tokens.tat;
    state.inFlight++;
    this.#keys.set(key, state);
    let released = false;
    return {
      requests: requests && limits.rpm !== undefined ? stateOf(state.requestsTat, now, limits.rpm) : undefined,
      tokens: tokens && limits.tpm !== undefined ? stateOf(state.tokensTat, now, limits.tpm) : undefined,
      release: (used) => {
        if (released) return;
        released = true;
        state.inFlight--;
        if (limits.tpm !== undefined && used !== undefined && used !== estimate) {
          // Settle: the difference is charged or given back, never beyond a full bucket.
          state.tokensTat = Math.max(this.#now(), state.tokensTat + (used - estimate) * (MINUTE_MS / limits.tpm));
        }
      },
    };
  }

  /** Keys with nothing in flight and every limit whole again are forgotten: the map does not grow with keys seen once. */
  sweep(): void {
    const now = this.#now();
    for (const [key, s] of this.#keys) if (s.inFlight === 0 && s.requestsTat <= now && s.tokensTat <= now) this.#keys.delete(key);
  }
}

/** GCRA for `cost` units of a limit of `perMinute`: the new arrival time, or how long until it fits. */
function gcra(tat: number, now: number, perMinute: number, cost: number): { ok: true; tat: number } | { ok: false; retryAfterMs: number } {
  const interval = MINUTE_MS / perMinute;
  const next = Math.max(tat, now) + cost * interval;
  // The bucket holds a minute's worth: `next` may run at most a minute ahead of now.
  const over = next - now - MINUTE_MS;
  return over <= 1e-6 ? { ok: true, tat: next } : { ok: false, retryAfterMs: Math.ceil(over) };
}

function stateOf(tat: number, now: number, perMinute: number): LimitState {
  const ahead = Math.max(0, tat - now);
  return { limit: perMinute, remaining: Math.max(0, Math.floor((MINUTE_MS - ahead) / (MINUTE_MS / perMinute))), resetMs: Math.ceil(ahead) };
}

function usedOf(tat: number, now: number, perMinute: number): number {
  return Math.min(perMinute, Math.ceil(Math.max(0, tat - now) / (MINUTE_MS / perMinute)));
}
