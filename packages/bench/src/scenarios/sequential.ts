/**
 * Scenario 1, sequential overhead: one request at a time, the contestants interleaved in rounds so
 * that machine noise hits them all alike; the figure is the median of the round medians.
 */
import { Agent } from "node:http";
import { median, percentile, timedCompletion, type Target } from "../load/requests.ts";
import type { BenchResults, Contestant } from "../types.ts";

export interface SequentialOptions {
  rounds: number;
  requestsPerRound: number;
  warmup: number;
  log(line: string): void;
}

export async function runSequential(contestants: Contestant[], opts: SequentialOptions): Promise<NonNullable<BenchResults["sequential"]>> {
  const rounds = await interleavedRounds(contestants, { ...opts, label: "sequential" });
  const base = { p50: median(rounds.get("direct")?.p50 ?? [0]), p99: median(rounds.get("direct")?.p99 ?? [0]) };
  const byContestant: NonNullable<BenchResults["sequential"]>["byContestant"] = {};
  for (const c of contestants) {
    const p50Ms = median(rounds.get(c.id)!.p50);
    const p99Ms = median(rounds.get(c.id)!.p99);
    byContestant[c.id] = { p50Ms, p99Ms, addedP50Ms: p50Ms - base.p50, addedP99Ms: p99Ms - base.p99, roundP50Ms: rounds.get(c.id)!.p50 };
  }
  return { rounds: opts.rounds, requestsPerRound: opts.requestsPerRound, byContestant };
}

/**
 * Sequential requests to each target in turn, round after round (the order rotating), after a
 * warmup: each target's p50 and p99 of every round. Shared by every scenario that compares
 * latencies side by side (the contestants; the gateway's limit stores).
 */
export async function interleavedRounds<T extends Target & { id: string }>(targets: T[], opts: SequentialOptions & { label: string }): Promise<Map<string, { p50: number[]; p99: number[] }>> {
  const agents = new Map(targets.map((c) => [c.id, new Agent({ keepAlive: true, maxSockets: 1 })]));
  for (const c of targets) for (let i = 0; i < opts.warmup; i++) await timedCompletion(agents.get(c.id)!, c);
  const rounds = new Map(targets.map((c) => [c.id, { p50: [] as number[], p99: [] as number[] }]));
  for (let r = 0; r < opts.rounds; r++) {
    // Rotate who goes first: the first after a switch can pay for a cold cache.
    const order = targets.map((_, i) => targets[(i + r) % targets.length]!);
    for (const c of order) {
      const samples: number[] = [];
      for (let i = 0; i < opts.requestsPerRound; i++) samples.push(await timedCompletion(agents.get(c.id)!, c));
      samples.sort((a, b) => a - b);
      rounds.get(c.id)!.p50.push(percentile(samples, 50));
      rounds.get(c.id)!.p99.push(percentile(samples, 99));
    }
    opts.log(`${opts.label}: round ${r + 1}/${opts.rounds} (${opts.requestsPerRound} requests per ${opts.label === "sequential" ? "contestant" : "configuration"})`);
  }
  for (const a of agents.values()) a.destroy();
  return rounds;
}
