/**
 * GCRA, the generic cell rate algorithm, for limits per minute: each scope keeps one "theoretical
 * arrival time" (tat) per limit. A request costing `cost` units moves it `cost * interval` ahead; it
 * fits while the tat stays within a minute of now. So a full minute's worth may go at once, and then
 * the limit refills at its rate: no window edge where a fresh minute stacks on a spent one, as with
 * fixed windows. The Redis store runs the same arithmetic in Lua (redis-scripts.ts): keep them alike.
 */
import type { LimitState } from "./types.ts";

export const MINUTE_MS = 60_000;

/** The new arrival time for `cost` units of a limit of `perMinute`, or how long until it fits. */
export function gcra(tat: number, now: number, perMinute: number, cost: number): { ok: true; tat: number } | { ok: false; retryAfterMs: number } {
  const next = Math.max(tat, now) + cost * (MINUTE_MS / perMinute);
  const over = next - now - MINUTE_MS;
  return over <= 1e-6 ? { ok: true, tat: next } : { ok: false, retryAfterMs: Math.ceil(over) };
}

/** A settled difference (`delta` units, either sign), never beyond a full bucket. */
export function settleTat(tat: number, now: number, perMinute: number, delta: number): number {
  return Math.max(now, tat + delta * (MINUTE_MS / perMinute));
}

export function stateOf(tat: number, now: number, perMinute: number): LimitState {
  const ahead = Math.max(0, tat - now);
  return { limit: perMinute, remaining: Math.max(0, Math.floor((MINUTE_MS - ahead) / (MINUTE_MS / perMinute) + 1e-9)), resetMs: Math.ceil(ahead) };
}

export function usedOf(tat: number, now: number, perMinute: number): number {
  return Math.min(perMinute, Math.ceil(Math.max(0, tat - now) / (MINUTE_MS / perMinute) - 1e-9));
}

/** Of several scopes' states, the one with the least left: what the headers report. */
export function tightest(states: (LimitState | undefined)[]): LimitState | undefined {
  let best: LimitState | undefined;
  for (const s of states) if (s && (!best || s.remaining / s.limit < best.remaining / best.limit)) best = s;
  return best;
}
