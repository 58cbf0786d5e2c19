/**
 * Side by side latencies of any async call (an MCP tool call, a REST call, a chat with tools): each
 * side does a block of calls in turn, round after round, the order rotating, so that drift on the
 * machine hits every side alike. A side's figure is the median of its round p50s and p99s, as in
 * the sequential scenario.
 */
import { median, percentile } from "../load/requests.ts";
import type { LatencySummary } from "../types.ts";

export interface TimedSide {
  id: string;
  /** One call; it throws when the answer is not the expected one. */
  call(): Promise<unknown>;
}

export interface RoundsShape {
  rounds: number;
  callsPerRound: number;
  /** Calls per side before anything is recorded. */
  warmup: number;
}

export type RoundFigures = Map<string, { p50: number[]; p99: number[] }>;

export async function timedRounds(sides: TimedSide[], shape: RoundsShape & { label: string; log(line: string): void }): Promise<RoundFigures> {
  for (const s of sides) for (let i = 0; i < shape.warmup; i++) await s.call();
  const figures: RoundFigures = new Map(sides.map((s) => [s.id, { p50: [], p99: [] }]));
  for (let r = 0; r < shape.rounds; r++) {
    const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
    const p50s: string[] = [];
    for (const s of order) {
      const samples: number[] = [];
      for (let i = 0; i < shape.callsPerRound; i++) {
        const t0 = performance.now();
        await s.call();
        samples.push(performance.now() - t0);
      }
      samples.sort((a, b) => a - b);
      figures.get(s.id)!.p50.push(percentile(samples, 50));
      figures.get(s.id)!.p99.push(percentile(samples, 99));
      p50s.push(`${s.id} ${percentile(samples, 50).toFixed(2)}`);
    }
    shape.log(`${shape.label}: round ${r + 1}/${shape.rounds} (${shape.callsPerRound} calls each), p50 ms: ${p50s.join(", ")}`);
  }
  return figures;
}

/** A side's figure: the median of its round p50s and of its round p99s. */
export function summaryOf(figures: RoundFigures, id: string): LatencySummary | undefined {
  const f = figures.get(id);
  if (!f || f.p50.length === 0) return undefined;
  return { p50Ms: round3(median(f.p50)), p99Ms: round3(median(f.p99)) };
}

/** ours / theirs, undefined when either is missing or theirs is not positive. */
export function ratioOf(ours: number | undefined, theirs: number | undefined): number | undefined {
  return ours === undefined || theirs === undefined || !(theirs > 0) ? undefined : round3(ours / theirs);
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
