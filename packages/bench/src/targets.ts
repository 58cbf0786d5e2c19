/** The targets, each judged on figures from the same run (ratios, so noise cancels). */
import type { BenchResults } from "./types.ts";

type Target = BenchResults["targets"][number];

export function judgeTargets(r: Omit<BenchResults, "targets">): Target[] {
  const seq = r.sequential?.byContestant;
  const sat = r.saturation?.byContestant;
  const str = r.streaming?.byContestant;
  const mem = r.memory?.byContestant;
  const targets: Target[] = [];
  const ratioText = (ours: number | undefined, theirs: number | undefined) =>
    ours === undefined || theirs === undefined || !(theirs > 0) ? undefined : `${(ours / theirs).toFixed(2)} x (${fmt(ours)} / ${fmt(theirs)})`;
  // `floor` holds the bare node proxy's figure in place of ours, on the targets where that comparison means something.
  type Floor = { value: number | undefined };
  const ratio = (name: string, target: string, ours: number | undefined, theirs: number | undefined, ok: (x: number) => boolean, floor?: Floor) => {
    const measured = ratioText(ours, theirs);
    const nodeFloor = floor ? { nodeFloor: ratioText(floor.value, theirs) ?? "not measured" } : {};
    targets.push({ name, target, measured: measured ?? "not measured", pass: measured === undefined ? null : ok(ours! / theirs!), ...nodeFloor });
  };
  const figure = (name: string, target: string, value: number | undefined, unit: string, ok: (x: number) => boolean, floor?: Floor) => {
    const nodeFloor = floor ? { nodeFloor: floor.value === undefined ? "not measured" : `${fmt(floor.value)} ${unit}` } : {};
    if (value === undefined) targets.push({ name, target, measured: "not measured", pass: null, ...nodeFloor });
    else targets.push({ name, target, measured: `${fmt(value)} ${unit}`, pass: ok(value), ...nodeFloor });
  };
  const proxy = "node-proxy" as const;

  ratio("added latency p50 vs Portkey", "<= 0.2 x", seq?.mcpgw?.addedP50Ms, seq?.portkey?.addedP50Ms, (x) => x <= 0.2, { value: seq?.[proxy]?.addedP50Ms });
  ratio("throughput vs Portkey", ">= 3 x", sat?.mcpgw?.peak.rps, sat?.portkey?.peak.rps, (x) => x >= 3, { value: sat?.[proxy]?.peak.rps });
  ratio("throughput vs bare node proxy", ">= 0.9 x", sat?.mcpgw?.peak.rps, sat?.[proxy]?.peak.rps, (x) => x >= 0.9);
  const firstChunk = (id: "mcpgw" | typeof proxy) => {
    const ttfc = str?.[id]?.addedFirstChunkP50Ms;
    const overhead = seq?.[id]?.addedP50Ms;
    return ttfc === undefined || overhead === undefined ? undefined : { ttfc, overhead, text: `${fmt(ttfc)} ms vs ${fmt(overhead)} ms` };
  };
  const fc = firstChunk("mcpgw");
  const fcFloor = firstChunk(proxy);
  targets.push({
    name: "stream first chunk added vs non-streaming overhead",
    target: "<=",
    measured: fc?.text ?? "not measured",
    pass: fc ? fc.ttfc <= fc.overhead : null,
    nodeFloor: fcFloor?.text ?? "not measured",
  });
  const s = str?.mcpgw;
  if (!s || !r.streaming) targets.push({ name: "coalesced or lost stream chunks", target: "0", measured: "not measured", pass: null });
  else {
    const lost = r.streaming.chunks - s.eventsSeen;
    targets.push({ name: "coalesced or lost stream chunks", target: "0", measured: `${s.coalesced} coalesced, ${lost} lost`, pass: s.coalesced === 0 && lost === 0 });
  }
  ratio("RSS idle vs Portkey", "<= 0.5 x", mem?.mcpgw?.idleRssMb, mem?.portkey?.idleRssMb, (x) => x <= 0.5, { value: mem?.[proxy]?.idleRssMb });
  const over = (m: { loadedRssMb: number; idleRssMb: number } | undefined) => (m ? m.loadedRssMb - m.idleRssMb : undefined);
  figure(`RSS of ${r.memory?.openStreams ?? "N"} open streams over idle`, "<= 150 MB", over(mem?.mcpgw), "MB", (x) => x <= 150, { value: over(mem?.[proxy]) });
  const cold = r.mcp?.coldStart;
  ratio("MCP cold start vs server-everything", "<= 1.2 x", cold?.ours.p50Ms, cold?.serverEverything.p50Ms, (x) => x <= 1.2);
  figure("MCP tool call overhead p50 over a direct SDK call", "<= 1 ms", r.mcp?.toolCall.overheadP50Ms, "ms", (x) => x <= 1);
  // Scenario 7: the worst traffic shape, each against the bare node proxy in front of the same upstream.
  for (const [q, limit] of [["p50", 1.1], ["p99", 1.3]] as const) {
    const name = `added ${q} vs bare node proxy, worst traffic shape`;
    const rows = (r.shapes?.byShape ?? []).flatMap((s) => {
      const ours = s.byContestant.mcpgw;
      const x = q === "p50" ? ours?.p50VsNodeProxy : ours?.p99VsNodeProxy;
      const theirs = q === "p50" ? s.byContestant[proxy]?.addedP50Ms : s.byContestant[proxy]?.addedP99Ms;
      return x === undefined || !ours || theirs === undefined ? [] : [{ id: s.id, x, ours: q === "p50" ? ours.addedP50Ms : ours.addedP99Ms, theirs }];
    });
    const worst = rows.reduce<(typeof rows)[number] | undefined>((w, row) => (!w || row.x > w.x ? row : w), undefined);
    targets.push({
      name,
      target: `<= ${limit} x`,
      measured: worst ? `${worst.x.toFixed(2)} x on ${worst.id} (${fmt(worst.ours)} / ${fmt(worst.theirs)} ms)` : "not measured",
      pass: worst ? worst.x <= limit : null,
    });
  }
  // The tool paths (issue 16): judged only when their scenarios ran (`--only toolloop,mcphttp`; not in the default run).
  if (r.toolLoop) figure("tool loop: the gateway's own time per tool round (p50)", "<= 1 ms", r.toolLoop.ownP50Ms, "ms", (x) => x <= 1);
  const mh = r.mcpHttp;
  if (mh) {
    const server = mh.byPath["mcpgw-server"];
    ratio("MCP tool call via /mcp/{server} p50 vs direct stdio", "<= 1.2 x", server?.p50Ms, mh.byPath.direct?.p50Ms, (x) => x <= 1.2);
    ratio("MCP tool call via /mcp/{server} p50 vs supergateway", "< 1 x", server?.p50Ms, mh.byPath.supergateway?.p50Ms, (x) => x < 1);
    ratio("MCP tool call via /mcp/{server} p50 vs mcp-proxy", "< 1 x", server?.p50Ms, mh.byPath["mcp-proxy"]?.p50Ms, (x) => x < 1);
    figure(`gateway RSS per idle /mcp session (${mh.sessions.opened} open)`, "<= 50 KB", mh.sessions.perSessionKb, "KB", (x) => x <= 50);
  }
  return targets;
}

function fmt(n: number): string {
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(2);
}
