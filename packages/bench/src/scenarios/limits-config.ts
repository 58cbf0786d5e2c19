/**
 * The limits scenario's gateway configurations, and how its rounds become figures: pure functions,
 * so the test can hold them to what the report claims (the four configurations differ in the limit
 * store and the usage store only, and nothing in them can refuse a request).
 */
import { median } from "../load/requests.ts";
import type { BenchResults, LatencySummary, LimitsVariant } from "../types.ts";

/** The variable the gateway reads the bench's client key from (`clients[].keyEnv`). */
export const BENCH_KEY_ENV = "BENCH_KEY";
export const BENCH_LIMITS_KEY = "bench-limits-key-0123456789abcdef";

/**
 * So high that nothing is ever refused, at any rate this machine reaches: what is measured is the
 * cost of checking and reserving (and settling on close), not of refusals.
 */
export const NEVER_REFUSED = { rpm: 100_000_000, tpm: 1_000_000_000, concurrency: 10_000 } as const;

/**
 * The config file of one configuration. Every one has the same provider, passthrough and client (a
 * key from BENCH_KEY, so auth costs alike); only the client's limits, the limit store and the usage
 * store differ. Usage stays at its default (SQLite, batched each second) but in `usage-off`, which is
 * there to show what recording usage costs.
 */
export function limitsConfig(variant: LimitsVariant, opts: { upstreamOrigin: string; redisUrl?: string | undefined }): object {
  const limited = variant === "memory" || variant === "redis";
  if (variant === "redis" && !opts.redisUrl) throw new Error("the redis configuration needs a redis:// URL");
  return {
    providers: { up: { type: "openai", baseUrl: `${opts.upstreamOrigin}/v1`, apiKey: "${OPENAI_API_KEY}" } },
    passthrough: "up",
    clients: [{ name: "bench", keyEnv: BENCH_KEY_ENV, ...(limited ? { limits: { ...NEVER_REFUSED } } : {}) }],
    ...(limited ? { limits: { store: variant === "redis" ? opts.redisUrl : "memory" } } : {}),
    ...(variant === "usage-off" ? { usage: { store: "off" } } : {}),
  };
}

type Rounds = Map<string, { p50: number[]; p99: number[] }>;

/** Each configuration's median round p50 and p99, and what it adds over direct's (the floor). */
export function sequentialFigures(rounds: Rounds, variants: LimitsVariant[]): NonNullable<BenchResults["limits"]>["byVariant"] {
  const floor = rounds.get("direct");
  const base = { p50: floor ? median(floor.p50) : 0, p99: floor ? median(floor.p99) : 0 };
  const byVariant: NonNullable<BenchResults["limits"]>["byVariant"] = {};
  for (const v of variants) {
    const r = rounds.get(v);
    if (!r || r.p50.length === 0) continue;
    const p50Ms = median(r.p50);
    const p99Ms = median(r.p99);
    byVariant[v] = { p50Ms, p99Ms, addedP50Ms: p50Ms - base.p50, addedP99Ms: p99Ms - base.p99 };
  }
  return byVariant;
}

type Step = LatencySummary & { rps: number; errors: number; non2xx: number };

/**
 * Each configuration's load rounds as one figure: the median rps, p50 and p99 over rounds, errors
 * summed (none may hide). Its throughput against limits off is the median of per-round ratios: a
 * round's turns are neighbours in time, so the machine's drift between rounds (large on a shared
 * machine) cancels out of each ratio, where it would not out of a ratio of medians.
 */
export function loadFigures(steps: Map<LimitsVariant, Step[]>): NonNullable<NonNullable<BenchResults["limits"]>["load"]>["byVariant"] {
  const byVariant: NonNullable<NonNullable<BenchResults["limits"]>["load"]>["byVariant"] = {};
  const off = steps.get("off") ?? [];
  for (const [v, list] of steps) {
    if (list.length === 0) continue;
    const sum = (pick: (s: Step) => number) => list.reduce((a, s) => a + pick(s), 0);
    const ratios = list.flatMap((s, r) => (off[r] && off[r].rps > 0 ? [s.rps / off[r].rps] : []));
    byVariant[v] = {
      rps: median(list.map((s) => s.rps)),
      p50Ms: median(list.map((s) => s.p50Ms)),
      p99Ms: median(list.map((s) => s.p99Ms)),
      errors: sum((s) => s.errors),
      non2xx: sum((s) => s.non2xx),
      ...(ratios.length ? { rpsVsOff: median(ratios) } : {}),
    };
  }
  return byVariant;
}
