/**
 * Scenario 3, streaming: an SSE answer of STREAM_CHUNKS events paced PACED_INTERVAL_MS apart by the
 * upstream. Time to the first and the last event over direct, and whether every event reaches the
 * client in a read of its own (a relay that buffers delivers several events per read).
 */
import { Agent } from "node:http";
import { median, timedStream, type StreamTiming } from "../load/requests.ts";
import type { BenchResults, Contestant } from "../types.ts";

export interface StreamingOptions {
  runs: number;
  chunks: number;
  intervalMs: number;
  log(line: string): void;
}

export async function runStreaming(contestants: Contestant[], opts: StreamingOptions): Promise<NonNullable<BenchResults["streaming"]>> {
  const agents = new Map(contestants.map((c) => [c.id, new Agent({ keepAlive: true, maxSockets: 1 })]));
  const timings = new Map(contestants.map((c) => [c.id, [] as StreamTiming[]]));
  // Warm-up: the first streams through a fresh process run unoptimised code and coalesce.
  for (const c of contestants) for (let i = 0; i < 20; i++) await timedStream(agents.get(c.id)!, c, "bench");
  for (let r = 0; r < opts.runs; r++) {
    for (let i = 0; i < contestants.length; i++) {
      const c = contestants[(i + r) % contestants.length]!;
      timings.get(c.id)!.push(await timedStream(agents.get(c.id)!, c, "bench-paced"));
    }
    if ((r + 1) % Math.max(1, Math.floor(opts.runs / 5)) === 0 || r + 1 === opts.runs) {
      opts.log(`streaming: ${r + 1}/${opts.runs} streams per contestant`);
    }
  }
  for (const a of agents.values()) a.destroy();
  const first = (id: Contestant["id"]) => median(timings.get(id)?.map((t) => t.firstChunkMs) ?? [0]);
  const last = (id: Contestant["id"]) => median(timings.get(id)?.map((t) => t.lastChunkMs) ?? [0]);
  const byContestant: NonNullable<BenchResults["streaming"]>["byContestant"] = {};
  for (const c of contestants) {
    const t = timings.get(c.id)!;
    byContestant[c.id] = {
      firstChunkP50Ms: first(c.id),
      lastChunkP50Ms: last(c.id),
      addedFirstChunkP50Ms: first(c.id) - first("direct"),
      addedLastChunkP50Ms: last(c.id) - last("direct"),
      eventsSeen: Math.min(...t.map((x) => x.events)),
      coalesced: t.reduce((sum, x) => sum + x.coalesced, 0),
    };
  }
  return { chunks: opts.chunks, intervalMs: opts.intervalMs, runs: opts.runs, byContestant };
}
