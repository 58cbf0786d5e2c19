/**
 * Scenario 3, streaming, in two parts:
 * - first chunk: short streams (one event at once, the last one a moment later), one at a time,
 *   contestants interleaved in rounds exactly like the sequential scenario, so the first-chunk
 *   figure compares with the non-streaming overhead;
 * - whole stream: STREAM_CHUNKS events paced PACED_INTERVAL_MS apart by the upstream: time to the
 *   last event, every event delivered, and each in a read of its own (a relay that buffers delivers
 *   several events per read).
 */
import { Agent } from "node:http";
import { median, percentile, timedStream, type StreamTiming } from "../load/requests.ts";
import type { BenchResults, Contestant } from "../types.ts";

export interface StreamingOptions {
  rounds: number;
  streamsPerRound: number;
  pacedRuns: number;
  chunks: number;
  intervalMs: number;
  log(line: string): void;
}

export async function runStreaming(contestants: Contestant[], opts: StreamingOptions): Promise<NonNullable<BenchResults["streaming"]>> {
  const agents = new Map(contestants.map((c) => [c.id, new Agent({ keepAlive: true, maxSockets: 1 })]));
  const agent = (c: Contestant) => agents.get(c.id)!;
  // Warm-up: the first streams through a fresh process run unoptimised code and coalesce.
  for (const c of contestants) for (let i = 0; i < 50; i++) await timedStream(agent(c), c, "bench-short");

  const roundFirst = new Map(contestants.map((c) => [c.id, [] as number[]]));
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < contestants.length; i++) {
      const c = contestants[(i + r) % contestants.length]!;
      const samples: number[] = [];
      for (let n = 0; n < opts.streamsPerRound; n++) samples.push((await timedStream(agent(c), c, "bench-short")).firstChunkMs);
      roundFirst.get(c.id)!.push(percentile(samples.sort((a, b) => a - b), 50));
    }
    opts.log(`streaming: first chunk, round ${r + 1}/${opts.rounds} (${opts.streamsPerRound} short streams per contestant)`);
  }

  const paced = new Map(contestants.map((c) => [c.id, [] as StreamTiming[]]));
  for (let r = 0; r < opts.pacedRuns; r++) {
    for (let i = 0; i < contestants.length; i++) {
      const c = contestants[(i + r) % contestants.length]!;
      paced.get(c.id)!.push(await timedStream(agent(c), c, "bench-paced"));
    }
    if ((r + 1) % Math.max(1, Math.floor(opts.pacedRuns / 5)) === 0 || r + 1 === opts.pacedRuns) {
      opts.log(`streaming: ${r + 1}/${opts.pacedRuns} paced streams of ${opts.chunks} events per contestant`);
    }
  }
  for (const a of agents.values()) a.destroy();

  const first = (id: Contestant["id"]) => median(roundFirst.get(id) ?? [0]);
  const last = (id: Contestant["id"]) => median(paced.get(id)?.map((t) => t.lastChunkMs) ?? [0]);
  const byContestant: NonNullable<BenchResults["streaming"]>["byContestant"] = {};
  for (const c of contestants) {
    const t = paced.get(c.id)!;
    byContestant[c.id] = {
      firstChunkP50Ms: first(c.id),
      lastChunkP50Ms: last(c.id),
      addedFirstChunkP50Ms: first(c.id) - first("direct"),
      addedLastChunkP50Ms: last(c.id) - last("direct"),
      eventsSeen: Math.min(...t.map((x) => x.events)),
      coalesced: t.reduce((sum, x) => sum + x.coalesced, 0),
    };
  }
  return { chunks: opts.chunks, intervalMs: opts.intervalMs, runs: opts.pacedRuns, byContestant };
}
