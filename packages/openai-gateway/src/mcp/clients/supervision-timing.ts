/**
 * How a server is supervised: reconnect backoff, health checks, bounds of the handshake. The
 * defaults are the production values; tests shorten them.
 */
export interface SupervisionTiming {
  /** First reconnect delay; it doubles after each failure, up to maxBackoffMs (with ±20% jitter). */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /** A server ready this long before it went down starts again from initialBackoffMs. */
  stableAfterMs: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** Consecutive pings without an answer after which the server is reconnected. */
  maxMissedPings: number;
  /** Bound of spawn (or HTTP connect) plus initialize; npx may first unpack a package. */
  connectTimeoutMs: number;
  /** Bound of one tools/list page. */
  listToolsTimeoutMs: number;
  /** SIGTERM-to-SIGKILL grace when a server is restarted (close() takes its own). */
  restartGraceMs: number;
}

export const DEFAULT_TIMING: SupervisionTiming = {
  initialBackoffMs: 1000,
  maxBackoffMs: 30_000,
  stableAfterMs: 60_000,
  pingIntervalMs: 30_000,
  pingTimeoutMs: 10_000,
  maxMissedPings: 3,
  connectTimeoutMs: 60_000,
  listToolsTimeoutMs: 30_000,
  restartGraceMs: 2000,
};

/** The delay before reconnect attempt `failures` (0 for the first after a failure). */
export function reconnectDelay(failures: number, timing: SupervisionTiming, random: () => number = Math.random): number {
  const base = Math.min(timing.initialBackoffMs * 2 ** Math.min(failures, 30), timing.maxBackoffMs);
  // Jitter, so that servers that failed together (a network blip) do not all retry at the same instant.
  return Math.round(Math.min(base * (0.8 + 0.4 * random()), timing.maxBackoffMs));
}
