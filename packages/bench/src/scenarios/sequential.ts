/**
 * Scenario 1, sequential overhead: one request at a time, the contestants interleaved in rounds so
 * that machine noise hits them all alike; the figure is the median of the round medians.
 */
import { Agent } from "node:http";
import { median, percentile, timedCompletion } from "../load/requests.ts";
import type { BenchResults, Contestant } from "../types.ts";

export interface SequentialOptions {
  rounds: number;
  requestsPerRound: number;
  warmup: number;
  log(line: string): void;
}

export async function runSequential(contestants: Contestant[], opts: SequentialOptions): Promise<NonNullable<BenchResults["sequential"]>> {
  const agents = new Map(contestants.map((c) => [c.id, new Agent({ keepAlive: true, maxSockets: 1 })]));
  for (const c of contestants) for (let i = 0; i < opts.warmup; i++) await timedCompletion(agents.get(c.id)!, c);
  const roundP50 = new Map(contestants.map((c) => [c.id, [] as number[]]));
  const roundP99 = new Map(contestants.map((c) => [c.id, [] as number[]]));
  for (let r = 0; r < opts.rounds; r++) {
    // Rotate who goes first: the first after a switch can pay for a cold cache.
    const order = contestants.map((_, i) => contestants[(i + r) % contestants.length]!);
    for (const c of order) {
      const samples: number[] = [];
      for (let i = 0; i < opts.requestsPerRound; i++) samples.push(await timedCompletion(agents.get(c.id)!, c));
      samples.sort((a, b) => a - b);
      roundP50.get(c.id)!.push(percentile(samples, 50));
      roundP99.get(c.id)!.push(percentile(samples, 99));
    }
    opts.log(`sequential: round ${r + 1}/${opts.rounds} (${opts.requestsPerRound} requests per contestant)`);
  }
  for (const a of agents.values()) a.destroy();
  const base = { p50: median(roundP50.get("direct") ?? [0]), p99: median(roundP99.get("direct") ?? [0]) };
  const byContestant: NonNullable<BenchResults["sequential"]>["byContestant"] = {};
  for (const c of contestants) {
    const p50Ms = median(roundP50.get(c.id)!);
    const p99Ms = median(roundP99.get(c.id)!);
    byContestant[c.id] = { p50Ms, p99Ms, addedP50Ms: p50Ms - base.p50, addedP99Ms: p99Ms - base.p99, roundP50Ms: roundP50.get(c.id)! };
  }
  return { rounds: opts.rounds, requestsPerRound: opts.requestsPerRound, byContestant };
}
