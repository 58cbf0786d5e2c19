/** The targets, each judged on figures from the same run (ratios, so noise cancels). */
import type { BenchResults } from "./types.ts";

type Target = BenchResults["targets"][number];

export function judgeTargets(r: Omit<BenchResults, "targets">): Target[] {
  const seq = r.sequential?.byContestant;
  const sat = r.saturation?.byContestant;
  const str = r.streaming?.byContestant;
  const mem = r.memory?.byContestant;
  const targets: Target[] = [];
  const ratio = (name: string, target: string, ours: number | undefined, theirs: number | undefined, ok: (x: number) => boolean) => {
    if (ours === undefined || theirs === undefined || !(theirs > 0)) {
      targets.push({ name, target, measured: "not measured", pass: null });
      return;
    }
    const x = ours / theirs;
    targets.push({ name, target, measured: `${x.toFixed(2)} x (${fmt(ours)} / ${fmt(theirs)})`, pass: ok(x) });
  };
  const figure = (name: string, target: string, value: number | undefined, unit: string, ok: (x: number) => boolean) => {
    if (value === undefined) targets.push({ name, target, measured: "not measured", pass: null });
    else targets.push({ name, target, measured: `${fmt(value)} ${unit}`, pass: ok(value) });
  };

  ratio("added latency p50 vs Portkey", "<= 0.2 x", seq?.mcpgw?.addedP50Ms, seq?.portkey?.addedP50Ms, (x) => x <= 0.2);
  ratio("throughput vs Portkey", ">= 3 x", sat?.mcpgw?.peak.rps, sat?.portkey?.peak.rps, (x) => x >= 3);
  ratio("throughput vs bare node proxy", ">= 0.8 x", sat?.mcpgw?.peak.rps, sat?.["node-proxy"]?.peak.rps, (x) => x >= 0.8);
  const ttfc = str?.mcpgw?.addedFirstChunkP50Ms;
  const overhead = seq?.mcpgw?.addedP50Ms;
  if (ttfc === undefined || overhead === undefined) targets.push({ name: "stream first chunk added vs non-streaming overhead", target: "<=", measured: "not measured", pass: null });
  else targets.push({ name: "stream first chunk added vs non-streaming overhead", target: "<=", measured: `${fmt(ttfc)} ms vs ${fmt(overhead)} ms`, pass: ttfc <= overhead });
  const s = str?.mcpgw;
  if (!s || !r.streaming) targets.push({ name: "coalesced or lost stream chunks", target: "0", measured: "not measured", pass: null });
  else {
    const lost = r.streaming.chunks - s.eventsSeen;
    targets.push({ name: "coalesced or lost stream chunks", target: "0", measured: `${s.coalesced} coalesced, ${lost} lost`, pass: s.coalesced === 0 && lost === 0 });
  }
  ratio("RSS idle vs Portkey", "<= 0.5 x", mem?.mcpgw?.idleRssMb, mem?.portkey?.idleRssMb, (x) => x <= 0.5);
  const m = mem?.mcpgw;
  figure(`RSS of ${r.memory?.openStreams ?? "N"} open streams over idle`, "<= 150 MB", m ? m.loadedRssMb - m.idleRssMb : undefined, "MB", (x) => x <= 150);
  const cold = r.mcp?.coldStart;
  ratio("MCP cold start vs server-everything", "<= 1.2 x", cold?.ours.p50Ms, cold?.serverEverything.p50Ms, (x) => x <= 1.2);
  figure("MCP tool call overhead p50 over a direct SDK call", "<= 1 ms", r.mcp?.toolCall.overheadP50Ms, "ms", (x) => x <= 1);
  return targets;
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2);
}
