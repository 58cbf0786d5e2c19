/**
 * The report generator, read the way a reader reads docs/benchmarks.md: every section there, the
 * ratios right, every chart linked and drawn, and no NaN or undefined where a figure is missing.
 * REPORT_SAMPLE_DIR=/tmp/x keeps the pages written from both fixtures there (the quick one in quick/), to look at.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ProfileSummary } from "../src/report/cpu-profile.ts";
import { writeReport } from "../src/report/write-report.ts";
import { judgeTargets } from "../src/targets.ts";
import type { BenchResults, ContestantId } from "../src/types.ts";

const NGINX_NOTE = "nginx not found on PATH <apt-get install nginx> & | retry";

/** Added latencies of ours, the node proxy and Portkey on one shape, with the ratios the scenario computes. */
function shapeFigures(ours: number, proxy: number, portkey: number) {
  const of = (added: number) => ({ p50Ms: added + 0.1, p99Ms: added * 2 + 0.2, addedP50Ms: added, addedP99Ms: added * 2 });
  return {
    direct: { p50Ms: 0.1, p99Ms: 0.2, addedP50Ms: 0, addedP99Ms: 0 },
    mcpgw: { ...of(ours), p50VsNodeProxy: ours / proxy, p99VsNodeProxy: ours / proxy, p50VsPortkey: ours / portkey, p99VsPortkey: ours / portkey },
    "node-proxy": { ...of(proxy), p50VsNodeProxy: 1, p99VsNodeProxy: 1, p50VsPortkey: proxy / portkey, p99VsPortkey: proxy / portkey },
    portkey: { ...of(portkey), p50VsNodeProxy: portkey / proxy, p99VsNodeProxy: portkey / proxy, p50VsPortkey: 1, p99VsPortkey: 1 },
  };
}

function fullResults(): BenchResults {
  const steps = (peaks: number[]) => peaks.map((rps, i) => ({ connections: [1, 8, 16, 32, 64][i]!, rps, p50Ms: 0.3 + i * 0.4, p99Ms: 1 + i, errors: 0, non2xx: 0 }));
  const sat = (peaks: number[]) => {
    const s = steps(peaks);
    return { steps: s, peak: s.reduce((a, b) => (b.rps > a.rps ? b : a)) };
  };
  const seq = (p50Ms: number, p99Ms: number) => ({ p50Ms, p99Ms, addedP50Ms: p50Ms - 0.21, addedP99Ms: p99Ms - 0.55, roundP50Ms: [p50Ms, p50Ms + 0.01] });
  const str = (first: number, last: number, coalesced: number) => ({
    firstChunkP50Ms: first,
    lastChunkP50Ms: last,
    addedFirstChunkP50Ms: first - 0.62,
    addedLastChunkP50Ms: last - 431.5,
    eventsSeen: 200,
    coalesced,
  });
  const base: Omit<BenchResults, "targets"> = {
    mode: "full",
    startedAt: "2026-05-04T10:00:00.000Z",
    finishedAt: "2026-05-04T10:07:31.000Z",
    command: "npm run bench",
    machine: { cpu: "AMD EPYC 7B13", cores: 2, memGiB: 23.4, os: "Debian GNU/Linux 12 (bookworm)", kernel: "6.1.0-18-amd64", pinning: "contestant on core 0; upstream, load generator and harness on core 1 (taskset)" },
    versions: { node: "24.21.0", "mcpgw openai-gateway": "0.0.0", "Portkey gateway": "1.15.2", autocannon: "9.0.0" },
    contestants: [
      { id: "direct", label: "direct (no gateway)", available: true },
      { id: "mcpgw", label: "mcpgw openai-gateway", available: true },
      { id: "portkey", label: "Portkey gateway", available: true },
      { id: "node-proxy", label: "node:http proxy", available: true },
      { id: "nginx", label: "nginx proxy_pass", available: false, note: NGINX_NOTE },
    ],
    sequential: {
      rounds: 15,
      requestsPerRound: 300,
      byContestant: { direct: seq(0.21, 0.55), mcpgw: seq(0.33, 0.91), portkey: seq(1.71, 4.05), "node-proxy": seq(0.3, 0.8) },
    },
    saturation: {
      stepDurationS: 6,
      byContestant: { direct: sat([3100, 14800, 16200, 16000]), mcpgw: sat([2300, 9100, 9800, 9700]), portkey: sat([900, 2400, 2350]), "node-proxy": sat([2500, 10400, 11200, 11000]) },
    },
    streaming: {
      chunks: 200,
      intervalMs: 2,
      runs: 30,
      byContestant: { direct: str(0.62, 431.5, 0), mcpgw: str(0.88, 432.4, 0), portkey: str(2.95, 440.1, 12), "node-proxy": str(0.81, 432.0, 0) },
    },
    memory: {
      openStreams: 1000,
      byContestant: {
        mcpgw: { idleRssMb: 61.2, loadedRssMb: 118.9, opened: 1000, perStreamKb: 59.1 },
        portkey: { idleRssMb: 142.7, loadedRssMb: 311.4, opened: 1000, perStreamKb: 172.7 },
        "node-proxy": { idleRssMb: 44.5, loadedRssMb: 92.3, opened: 1000, perStreamKb: 48.9 },
      },
    },
    mcp: {
      coldStart: { runs: 30, ours: { p50Ms: 182.4, p99Ms: 231.9, samplesMs: [180.1, 182.4, 231.9] }, serverEverything: { p50Ms: 205.3, p99Ms: 260.2, samplesMs: [201, 205.3, 260.2] } },
      toolCall: { calls: 500, mcp: { p50Ms: 1.42, p99Ms: 3.1 }, direct: { p50Ms: 0.97, p99Ms: 2.2 }, overheadP50Ms: 0.45 },
    },
    limits: {
      rounds: 10,
      requestsPerRound: 300,
      byVariant: {
        "usage-off": { p50Ms: 0.6, p99Ms: 1.1, addedP50Ms: 0.39, addedP99Ms: 0.55 },
        off: { p50Ms: 0.61, p99Ms: 1.2, addedP50Ms: 0.4, addedP99Ms: 0.65 },
        memory: { p50Ms: 0.63, p99Ms: 1.3, addedP50Ms: 0.42, addedP99Ms: 0.75 },
      },
      load: {
        connections: 64,
        stepDurationS: 5,
        rounds: 3,
        byVariant: {
          "usage-off": { rps: 9450, p50Ms: 6, p99Ms: 12, errors: 0, non2xx: 0, rpsVsOff: 1.05 },
          off: { rps: 9000, p50Ms: 6, p99Ms: 13, errors: 0, non2xx: 0, rpsVsOff: 1 },
          memory: { rps: 8550, p50Ms: 7, p99Ms: 14, errors: 1, non2xx: 2, rpsVsOff: 0.95 },
        },
      },
      unavailable: { redis: "redis-server could not start: no apt | here" },
    },
    shapes: {
      rounds: 20,
      requestsPerRound: 240,
      warmup: 100,
      byShape: [
        { id: "small", label: "small", requestBytes: 100, answerBytes: 1024, chunked: false, upstream: "process", byContestant: shapeFigures(0.39, 0.26, 0.85) },
        { id: "agent-turn", label: "agent turn", requestBytes: 51200, answerBytes: 16384, chunked: true, upstream: "https", byContestant: shapeFigures(0.74, 0.28, 1.7) },
      ],
      tls: { sent: 480, upstreamRequests: 480, overTls: 480 },
      notes: [],
    },
  };
  return { ...base, targets: judgeTargets(base) };
}

/** A quick run with only the sequential scenario, and portkey never got a figure. */
function partialResults(): BenchResults {
  const full = fullResults();
  const base: Omit<BenchResults, "targets"> = {
    ...full,
    mode: "quick",
    command: "npm run bench -- --quick --only sequential",
    sequential: { rounds: 2, requestsPerRound: 20, byContestant: { direct: full.sequential!.byContestant.direct, mcpgw: full.sequential!.byContestant.mcpgw } },
    saturation: undefined,
    streaming: undefined,
    memory: undefined,
    mcp: undefined,
    limits: undefined,
  };
  return { ...base, targets: judgeTargets(base) };
}

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** `beforehand` puts files in the charts directory first, as `npm run bench:profile -- --docs` does. */
async function write(results: BenchResults, root?: string, beforehand?: (chartsDir: string) => void) {
  const dir = root ?? mkdtempSync(join(tmpdir(), "bench-report-"));
  if (!root) dirs.push(dir);
  const paths = { markdownPath: join(dir, "docs", "benchmarks.md"), chartsDir: join(dir, "docs", "benchmarks"), resultsJsonPath: join(dir, "docs", "benchmarks", "results.json") };
  beforehand?.(paths.chartsDir);
  await writeReport(results, paths);
  const svgs = Object.fromEntries(
    readdirSync(paths.chartsDir)
      .filter((f) => f.endsWith(".svg"))
      .map((f) => [f, readFileSync(join(paths.chartsDir, f), "utf8")]),
  );
  return { ...paths, md: readFileSync(paths.markdownPath, "utf8"), json: readFileSync(paths.resultsJsonPath, "utf8"), svgs };
}
type Written = Awaited<ReturnType<typeof write>>;

/** The cells of the table row whose first cell starts with `label`, below `heading`. */
function row(md: string, heading: string, label: string): string[] {
  const from = md.indexOf(heading);
  assert.ok(from >= 0, `no '${heading}'`);
  const line = md.slice(from).split("\n").find((l) => l.startsWith(`| ${label}`));
  assert.ok(line, `no row '${label}' under '${heading}'`);
  return line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
}

/** Every open tag closed in order, nothing unescaped between them. */
function assertWellFormed(svg: string, file: string) {
  assert.ok(svg.startsWith("<svg "), `${file} starts with <svg`);
  assert.equal(svg.trimEnd().slice(-6), "</svg>", `${file} ends with </svg>`);
  const stack: string[] = [];
  for (const [, close, tag, , selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    if (close) assert.equal(stack.pop(), tag, `${file}: </${tag}> closes something else`);
    else if (!selfClosing) stack.push(tag!);
  }
  assert.deepEqual(stack, [], `${file}: unclosed ${stack.join(", ")}`);
  assert.doesNotMatch(svg.replace(/<[^>]*>/g, ""), /[<>]|&(?!(amp|lt|gt|quot|apos);)/, `${file}: unescaped text`);
}

const unescape = (s: string) => s.replace(/&(lt|gt|quot|apos|amp);/g, (_, e: string) => ({ lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" })[e]!);

/** The text a reader sees in a chart, each text element's, unescaped. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => unescape(m[1]!));
}

interface Bar {
  /** What a screen reader says of it: "contestant, series: value", or "contestant: value" with one series. */
  label: string;
  y: number;
  width: number;
  fill: string;
}

/** The bars drawn, in the order drawn (panel by panel, top down); y is within its panel. */
function bars(svg: string): Bar[] {
  const re = /<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="bar" d="M[-\d.e]+,([-\d.e]+)h([-\d.e]+)v[-\d.e]+h[-\d.e]+Z" fill="(#[0-9a-f]{6})"\/>/g;
  return [...svg.matchAll(re)].map(([, label, y, width, fill]) => ({ label: unescape(label!), y: Number(y), width: Math.abs(Number(width)), fill: fill! }));
}

/** Every chart is self-contained: nothing fetched (no links, no web fonts), and a generic font family. */
function assertSelfContained(svg: string, file: string) {
  assert.doesNotMatch(svg, /href=|@import|url\((?!#)/, `${file} refers to nothing outside itself`);
  const fonts = new Set([...svg.matchAll(/font-family="([^"]*)"/g)].map((m) => m[1]));
  assert.deepEqual([...fonts], ["sans-serif"], `${file} fonts`);
}

function assertNoHoles(out: { md: string; svgs: Record<string, string> }) {
  for (const [name, text] of [["benchmarks.md", out.md], ...Object.entries(out.svgs)] as const) {
    assert.doesNotMatch(text, /NaN|undefined|Infinity|\[object /, `${name} has a hole`);
  }
}

describe("writeReport, full run", () => {
  const results = fullResults();
  let out: Written;
  before(async () => {
    out = await write(results);
    if (process.env.REPORT_SAMPLE_DIR) await write(results, resolve(process.env.REPORT_SAMPLE_DIR));
  });

  it("says at the top that it is generated, then has every section", () => {
    const top = out.md.split("\n").slice(0, 4).join("\n");
    assert.match(top, /generated by `npm run bench`/i);
    assert.match(top, /don't edit this page by hand/);
    const headings = ["## Headline", "## Ours against each contestant", "## Contestants", "## 1. Sequential", "## 2. Throughput", "## 3. Streaming", "## 4. Memory", "## 5. MCP", "## 6. Limits: what they cost", "## 7. Traffic shapes", "## Where the gateway spends its CPU", "## Machine", "## Versions", "## This run"];
    let at = -1;
    for (const h of headings) {
      const i = out.md.indexOf(h);
      assert.ok(i > at, `'${h}' present and in order`);
      at = i;
    }
    assert.doesNotMatch(out.md, /Not measured in this run/);
    assert.doesNotMatch(out.md, /quick mode/i);
    assert.match(out.md, /`npm ci && npm run bench`/);
    assert.match(out.md, /## Where the gateway spends its CPU\n\nNot profiled yet: `npm run bench:profile -- --docs` adds a chart of where the gateway spends its CPU/);
  });

  it("shows what limits cost, as ratios to limits off, sequential and under load, and says why a store was not measured", () => {
    const h = "## 6. Limits: what they cost";
    assert.deepEqual(row(out.md, h, "Limits in memory").slice(1), ["0.63", "1.30", "0.42", "0.75", "1.05×", "1.15×"]);
    assert.deepEqual(row(out.md, h, "Limits off (usage").slice(5), ["1.00×", "1.00×"]);
    assert.deepEqual(row(out.md, h, "Limits off, usage records off").slice(5), ["0.97×", "0.85×"]);
    assert.deepEqual(row(out.md, h, "Limits in Redis").slice(1), ["—", "—", "—", "—", "—", "—"]);
    const load = "Under load: autocannon at 64 connections, 3 turns of 5 s";
    assert.deepEqual(row(out.md, load, "Limits in memory").slice(1), ["8,550", "7.00", "14.00", "1", "2", "0.95×"]);
    assert.deepEqual(row(out.md, load, "Limits off (usage").slice(6), ["1.00×"]);
    assert.deepEqual(row(out.md, load, "Limits off, usage records off").slice(6), ["1.05×"]);
    assert.deepEqual(row(out.md, load, "Limits in Redis").slice(1), ["—", "—", "—", "—", "—", "—"]);
    assert.match(out.md, /- Limits in Redis: not measured \(redis-server could not start: no apt \\\| here\)/);
  });

  it("lists every target with its verdict", () => {
    for (const t of results.targets) {
      const cells = row(out.md, "## Headline", t.name);
      assert.equal(cells[3], t.pass === null ? "—" : t.pass ? "✅" : "❌");
    }
  });

  it("judges the bare node:http proxy by the same targets, where they are about the gateway process", () => {
    const floor = (name: string) => row(out.md, "## Headline", name)[4];
    // node-proxy added 0.09 ms against Portkey's 1.50; 11,200 req/s against 2,400; 44.5 MB idle against 142.7
    assert.equal(floor("added latency p50 vs Portkey"), "0.06 x (0.09 / 1.50)");
    assert.equal(floor("throughput vs Portkey"), "4.67 x (11200 / 2400)");
    assert.equal(floor("stream first chunk added vs non-streaming overhead"), "0.19 ms vs 0.09 ms");
    assert.equal(floor("RSS idle vs Portkey"), "0.31 x (44.50 / 143)");
    assert.equal(floor("RSS of 1000 open streams over idle"), "47.80 MB");
    // Targets that compare with the proxy itself, or concern the MCP server, have no such figure.
    for (const name of ["throughput vs bare node proxy", "MCP cold start vs server-everything", "MCP tool call overhead p50 over a direct SDK call"]) {
      assert.equal(floor(name), "—", name);
    }
  });

  it("puts ours over theirs in the ratios table", () => {
    const seq = results.sequential!.byContestant;
    const portkey = row(out.md, "## Ours against each contestant", "Portkey gateway");
    assert.equal(portkey[1], `${(seq.mcpgw!.addedP50Ms / seq.portkey!.addedP50Ms).toFixed(2)}×`);
    assert.equal(portkey[1], "0.08×");
    const sat = results.saturation!.byContestant;
    assert.equal(row(out.md, "## Ours against each contestant", "node:http proxy")[2], `${(9800 / 11200).toFixed(2)}×`);
    assert.equal(sat["node-proxy"]!.peak.rps, 11200);
    const mem = results.memory!.byContestant;
    assert.equal(portkey[4], `${(mem.mcpgw!.idleRssMb / mem.portkey!.idleRssMb).toFixed(2)}×`);
    // direct adds nothing and has no process: those ratios are dashes, its throughput ratio is not
    assert.deepEqual(row(out.md, "## Ours against each contestant", "direct").slice(1), ["—", `${(9800 / 16200).toFixed(2)}×`, "—", "—", "—"]);
    assert.deepEqual(row(out.md, "## Ours against each contestant", "nginx").slice(1), ["—", "—", "—", "—", "—"]);
  });

  it("formats the raw figures per scenario", () => {
    assert.deepEqual(row(out.md, "## 1. Sequential", "**mcpgw").slice(1), ["0.33", "0.91", "0.12", "0.36"]);
    assert.deepEqual(row(out.md, "## 2. Throughput", "**mcpgw").slice(1, 3), ["9,800", "16"]);
    assert.equal(row(out.md, "## 3. Streaming", "Portkey")[6], "12");
    assert.deepEqual(row(out.md, "## 4. Memory", "**mcpgw").slice(1, 3), ["61.2", "118.9"]);
    assert.deepEqual(row(out.md, "## 5. MCP", "What MCP adds").slice(1), ["0.45", "—"]);
  });

  it("links charts that exist, relative to the page", () => {
    const links = [...out.md.matchAll(/!\[[^\]]+\]\(([^)]+)\)/g)].map((m) => m[1]!);
    assert.deepEqual(links.sort(), Object.keys(out.svgs).map((f) => `benchmarks/${f}`).sort());
    assert.equal(links.length, 6);
    for (const href of links) assert.ok(existsSync(join(dirname(out.markdownPath), decodeURI(href))), href);
    assert.match(out.md, /\]\(benchmarks\/results\.json\)/);
  });

  it("draws well-formed, self-contained charts that name every contestant", () => {
    const named: Array<[string, ContestantId[]]> = [
      ["added-latency.svg", ["mcpgw", "portkey", "node-proxy", "nginx"]],
      ["throughput.svg", ["direct", "mcpgw", "portkey", "node-proxy", "nginx"]],
      ["throughput-vs-connections.svg", ["direct", "mcpgw", "portkey", "node-proxy"]],
      ["streaming.svg", ["direct", "mcpgw", "portkey", "node-proxy", "nginx"]],
      ["memory.svg", ["mcpgw", "portkey", "node-proxy", "nginx"]],
    ];
    assert.deepEqual(Object.keys(out.svgs).sort(), [...named.map(([f]) => f), "mcp.svg"].sort());
    for (const [file, svg] of Object.entries(out.svgs)) {
      assertWellFormed(svg, file);
      assertSelfContained(svg, file);
    }
    for (const [file, ids] of named) {
      for (const id of ids) assert.ok(texts(out.svgs[file]!).includes(results.contestants.find((c) => c.id === id)!.label), `${file} names ${id}`);
    }
    assert.ok(!texts(out.svgs["added-latency.svg"]!).includes("direct (no gateway)"), "direct adds nothing: no row");
  });

  it("draws a bar per figure, as long as its value, with the value beside it, ours in blue", () => {
    const added = bars(out.svgs["added-latency.svg"]!);
    assert.deepEqual(
      added.map((b) => b.label),
      ["mcpgw openai-gateway, p50: 0.12", "mcpgw openai-gateway, p99: 0.36", "Portkey gateway, p50: 1.50", "Portkey gateway, p99: 3.50", "node:http proxy, p50: 0.09", "node:http proxy, p99: 0.25"],
    );
    assert.deepEqual(added.map((b) => b.fill), ["#0969da", "#80b6f5", "#6e7781", "#c3cad3", "#6e7781", "#c3cad3"], "ours blue, the others grey; p99 lighter");
    assert.ok(Math.abs(added[3]!.width / added[2]!.width - 3.5 / 1.5) < 0.01, "bars as long as their values");
    for (const v of ["0.12", "0.36", "1.50", "3.50", "p50 (ours)", "p99 (ours)", "p50", "p99", "added latency (ms)"]) assert.ok(texts(out.svgs["added-latency.svg"]!).includes(v), `added latency shows ${v}`);
    assert.ok(texts(out.svgs["added-latency.svg"]!).includes(`unavailable: ${NGINX_NOTE}`), "nginx's row says why it has no bars");

    const peak = bars(out.svgs["throughput.svg"]!);
    assert.deepEqual(peak.map((b) => b.label), ["direct (no gateway): 16,200", "mcpgw openai-gateway: 9,800", "Portkey gateway: 2,400", "node:http proxy: 11,200"]);
    assert.ok(Math.abs(peak[1]!.width / peak[0]!.width - 9800 / 16200) < 0.01);
    assert.ok(peak[0]!.y < peak[1]!.y && peak[1]!.y < peak[2]!.y, "in the run's order, top down");

    const streaming = bars(out.svgs["streaming.svg"]!);
    assert.equal(streaming.length, 8, "first and last chunk for the four measured");
    assert.deepEqual(streaming.slice(4).map((b) => b.label.split(": ")[1]), ["431.50", "432.40", "440.10", "432.00"]);
    for (const t of ["First chunk", "Last chunk", "ms from request to first chunk", "ms from request to last chunk"]) assert.ok(texts(out.svgs["streaming.svg"]!).includes(t), t);

    const memory = bars(out.svgs["memory.svg"]!);
    assert.deepEqual(memory.map((b) => b.label), ["mcpgw openai-gateway, idle: 61.2", "mcpgw openai-gateway, 1,000 open streams: 118.9", "Portkey gateway, idle: 142.7", "Portkey gateway, 1,000 open streams: 311.4", "node:http proxy, idle: 44.5", "node:http proxy, 1,000 open streams: 92.3"]);

    const mcp = bars(out.svgs["mcp.svg"]!);
    assert.deepEqual(mcp.map((b) => b.label), [
      "openai-gateway-mcp, p50: 182.40",
      "openai-gateway-mcp, p99: 231.90",
      "server-everything, p50: 205.30",
      "server-everything, p99: 260.20",
      "via openai-gateway-mcp, p50: 1.42",
      "via openai-gateway-mcp, p99: 3.10",
      "openai SDK, direct, p50: 0.97",
      "openai SDK, direct, p99: 2.20",
    ]);
    for (const t of ["Cold start: spawn to initialize result (30 runs)", "chat_completion call (500 calls)"]) assert.ok(texts(out.svgs["mcp.svg"]!).includes(t), t);
  });

  it("draws a line per contestant through each connection count it reached, ours in blue on top", () => {
    const svg = out.svgs["throughput-vs-connections.svg"]!;
    const lines = [...svg.matchAll(/<path aria-label="[^"]*label: ([^"]*)" role="graphics-symbol" aria-roledescription="line mark" d="([^"]*)" stroke="(#[0-9a-f]{6})" stroke-width="(\d+)"/g)].map(([, label, d, stroke, width]) => ({ label: unescape(label!), points: d!.split("L").length, stroke, width: Number(width) }));
    assert.deepEqual(lines.map((l) => [l.label, l.points]), [
      ["direct (no gateway)", 4],
      ["Portkey gateway", 3],
      ["node:http proxy", 4],
      ["mcpgw openai-gateway", 4],
    ]);
    assert.deepEqual(lines.at(-1)!.stroke, "#0969da");
    assert.ok(lines.at(-1)!.width > lines[0]!.width, "ours drawn wider, and last");
    assert.equal([...svg.matchAll(/aria-roledescription="point"/g)].length, 15, "a point per step measured");
    for (const t of ["1", "8", "16", "32", "concurrent connections (autocannon)", "requests per second"]) assert.ok(texts(svg).includes(t), `shows ${t}`);
  });

  it("writes the raw results as pretty JSON that round-trips", () => {
    assert.deepEqual(JSON.parse(out.json), results);
    assert.match(out.json, /\n {2}"mode": "full"/);
  });

  it("escapes text from the results and leaves no holes", () => {
    assert.ok(out.md.includes("unavailable: nginx not found on PATH \\<apt-get install nginx\\> \\& \\| retry"));
    assert.equal(row(out.md, "## Contestants", "nginx").length, 3, "the note's | does not split the cell");
    assertNoHoles(out);
  });
});

describe("writeReport, quick run with only the sequential scenario", () => {
  const results = partialResults();
  let out: Written;
  before(async () => {
    out = await write(results);
    if (process.env.REPORT_SAMPLE_DIR) await write(results, resolve(process.env.REPORT_SAMPLE_DIR, "quick"));
  });

  it("flags quick mode loudly", () => {
    assert.match(out.md.split("## Headline")[0]!, /\*\*Quick mode: figures are not meaningful\.\*\*/);
    assert.match(out.md, /Mode: \*\*quick — quick mode: figures are not meaningful\*\*/);
  });

  it("keeps every section, saying what was not measured", () => {
    for (const h of ["## 2. Throughput", "## 3. Streaming", "## 4. Memory", "## 5. MCP", "## 6. Limits: what they cost"]) {
      assert.match(out.md.slice(out.md.indexOf(h)).split("\n## ")[0]!, /Not measured in this run\./, h);
    }
    assert.deepEqual(row(out.md, "## 1. Sequential", "Portkey gateway").slice(1), ["—", "—", "—", "—"]);
    assert.deepEqual(row(out.md, "## Ours against each contestant", "Portkey gateway").slice(1), ["—", "—", "—", "—", "—"]);
    assert.ok(row(out.md, "## Ours against each contestant", "nginx")[0]!.endsWith("(unavailable)"));
    assert.equal(row(out.md, "## Headline", "throughput vs Portkey")[3], "—");
  });

  it("draws only the charts it has figures for, with notes where bars are missing", () => {
    assert.deepEqual(Object.keys(out.svgs), ["added-latency.svg"]);
    const svg = out.svgs["added-latency.svg"]!;
    assertWellFormed(svg, "added-latency.svg");
    assert.deepEqual(bars(svg).map((b) => b.label), ["mcpgw openai-gateway, p50: 0.12", "mcpgw openai-gateway, p99: 0.36"]);
    for (const label of ["mcpgw openai-gateway", "Portkey gateway", "node:http proxy", "nginx proxy_pass"]) assert.ok(texts(svg).includes(label), `a row for ${label}`);
    assert.equal(texts(svg).filter((t) => t === "not measured").length, 2, "portkey's and node-proxy's rows say not measured");
    assert.ok(texts(svg).includes(`unavailable: ${NGINX_NOTE}`), "nginx's row says why");
    const links = [...out.md.matchAll(/!\[[^\]]+\]\(([^)]+)\)/g)].map((m) => m[1]!);
    assert.deepEqual(links, ["benchmarks/added-latency.svg"]);
    assert.deepEqual(JSON.parse(out.json), JSON.parse(JSON.stringify(results)));
    assertNoHoles(out);
  });
});

describe("writeReport, with a CPU profile from bench:profile --docs", () => {
  const summary: ProfileSummary = {
    date: "2026-05-04T11:00:00.000Z",
    seconds: 10,
    connections: 32,
    stream: false,
    rps: 9412.6,
    topSelf: [
      { name: "writev", percent: 19.6 },
      { name: "_resume (undici/lib/dispatcher/client.js:663)", percent: 2.9 },
      { name: "run (openai-gateway/dist/chat/completion.js:10)", percent: 0.9 },
      { name: "<anonymous> (x.js:1)", percent: 0.5 },
    ],
    byPackage: [
      { name: "(native)", percent: 27.2 },
      { name: "undici", percent: 12.6 },
    ],
  };
  const speedscope = `{"$schema":"https://www.speedscope.app/file-format-schema.json","shared":{"frames":[]},"profiles":[]}`;
  let out: Written;
  let withoutSpeedscope: Written;
  let section = "";
  before(async () => {
    out = await write(fullResults(), undefined, (chartsDir) => {
      mkdirSync(chartsDir, { recursive: true });
      writeFileSync(join(chartsDir, "profile.json"), JSON.stringify(summary));
      writeFileSync(join(chartsDir, "gateway.speedscope.json"), speedscope);
    });
    section = out.md.slice(out.md.indexOf("## Where the gateway spends its CPU")).split("\n## ")[0]!;
    withoutSpeedscope = await write(fullResults(), undefined, (chartsDir) => {
      mkdirSync(chartsDir, { recursive: true });
      writeFileSync(join(chartsDir, "profile.json"), JSON.stringify(summary));
    });
  });

  it("shows how it was made, the self-time chart, how to open the whole profile, and the top self time, after the scenarios", () => {
    assert.ok(out.md.indexOf("## 5. MCP") < out.md.indexOf("## Where the gateway") && out.md.indexOf("## Where the gateway") < out.md.indexOf("## Machine"));
    assert.match(section, /`npm run bench:profile -- --seconds 10 --connections 32 --docs` on 2026-05-04/);
    assert.match(section, /32 connections for 10 s \(non-streaming\), 9,413 req\/s/);
    assert.match(section, /!\[[^\]]+\]\(benchmarks\/gateway-self-time\.svg\)/);
    assert.match(section, /\[gateway\.speedscope\.json\]\(benchmarks\/gateway\.speedscope\.json\)/);
    assert.match(section, /https:\/\/www\.speedscope\.app/);
    assert.match(section, /`npx speedscope benchmarks\/gateway\.speedscope\.json`/);
    assert.match(section, /Chrome DevTools/);
    assert.deepEqual(row(section, "| Function", "writev").slice(1), ["19.6 %"]);
    assert.deepEqual(row(section, "| Function", "\\<anonymous\\>").slice(1), ["0.5 %"]);
    assert.deepEqual(row(section, "| Package", "undici").slice(1), ["12.6 %"]);
    assert.doesNotMatch(section, /Not profiled yet|flame graph of the gateway/i);
    assertNoHoles(out);
  });

  it("draws the functions with the most self time, heaviest on top, ours in blue", () => {
    const svg = out.svgs["gateway-self-time.svg"]!;
    assertWellFormed(svg, "gateway-self-time.svg");
    assertSelfContained(svg, "gateway-self-time.svg");
    const drawn = bars(svg);
    assert.deepEqual(
      drawn.map((b) => b.label),
      ["writev: 19.6 %", "_resume (undici/lib/dispatcher/client.js:663): 2.9 %", "run (openai-gateway/dist/chat/completion.js:10): 0.9 %", "<anonymous> (x.js:1): 0.5 %"],
    );
    assert.ok(drawn.every((b, i) => i === 0 || (b.y > drawn[i - 1]!.y && b.width < drawn[i - 1]!.width)), "top down, shorter and shorter");
    assert.ok(Math.abs(drawn[0]!.width / drawn[1]!.width - 19.6 / 2.9) < 0.01, "as long as their share");
    assert.deepEqual(drawn.map((b) => b.fill), ["#6e7781", "#6e7781", "#0969da", "#6e7781"]);
    for (const t of ["writev", "<anonymous> (x.js:1)", "19.6 %", "Where the gateway spends its CPU: self time", "32 connections for 10 s, non-streaming, 9,413 req/s; share of all samples; ours in blue."]) {
      assert.ok(texts(svg).includes(t), `shows '${t}'`);
    }
  });

  it("leaves the profile's files in place, and links the speedscope file only when there is one", () => {
    assert.deepEqual(JSON.parse(readFileSync(join(out.chartsDir, "profile.json"), "utf8")), summary);
    assert.equal(readFileSync(join(out.chartsDir, "gateway.speedscope.json"), "utf8"), speedscope);
    assert.ok(withoutSpeedscope.svgs["gateway-self-time.svg"]);
    assert.doesNotMatch(withoutSpeedscope.md, /speedscope\.json/);
    assert.match(withoutSpeedscope.md, /\]\(benchmarks\/gateway-self-time\.svg\)/);
  });
});
