/**
 * The flame graph of a small cpuprofile whose figures are known, read the way a reader reads it: how
 * wide each box is, what its tooltip says, what colour it has, and what is left out.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CallFrame, type CpuProfile, type CpuProfileNode, flameGraphSvg, MAX_DEPTH, originOf, packageOf, PALETTE, selfTimeByPackage, topSelfTime } from "../src/report/flame-graph.ts";

const GW = "file:///work/main/packages/openai-gateway/dist/routes/proxy.js";
const FASTIFY = "file:///work/main/node_modules/fastify/lib/reply.js";
const SCOPED = "file:///work/main/node_modules/@acme/json/index.js";
const frame = (functionName: string, url = "", lineNumber = -1): CallFrame => ({ functionName, url, lineNumber });

// Self samples of each node; the two proxy nodes are the same function reached twice, as V8 records it.
const SELF = { idle: 100, program: 20, gc: 30, ticks: 10, proxyA: 200, sendA: 300, writev: 240, odd: 150, rare: 1, proxyB: 50, sendB: 100 };
const ALL = Object.values(SELF).reduce((a, b) => a + b, 0); // 1,201
const SEND = SELF.sendA + SELF.writev + SELF.sendB; // merged: 640
const PROXY = SELF.proxyA + SEND + SELF.odd + SELF.rare + SELF.proxyB; // merged: 1,041
const TICKS = SELF.ticks + PROXY;

function fixture(): CpuProfile {
  const nodes: CpuProfileNode[] = [
    { id: 1, callFrame: frame("(root)"), hitCount: 0, children: [2, 3, 4, 5] },
    { id: 2, callFrame: frame("(idle)"), hitCount: SELF.idle },
    { id: 3, callFrame: frame("(program)"), hitCount: SELF.program },
    { id: 4, callFrame: frame("(garbage collector)"), hitCount: SELF.gc },
    { id: 5, callFrame: frame("processTicksAndRejections", "node:internal/process/task_queues", 71), hitCount: SELF.ticks, children: [6, 11] },
    { id: 6, callFrame: frame("proxy", GW, 11), hitCount: SELF.proxyA, children: [7, 9, 10] },
    { id: 7, callFrame: frame("send", FASTIFY, 99), hitCount: SELF.sendA, children: [8] },
    { id: 8, callFrame: frame("writev"), hitCount: SELF.writev },
    { id: 9, callFrame: frame("<lambda> & co", SCOPED, 3), hitCount: SELF.odd },
    { id: 10, callFrame: frame("rare", GW, 70), hitCount: SELF.rare },
    { id: 11, callFrame: frame("proxy", GW, 11), hitCount: SELF.proxyB, children: [12] },
    { id: 12, callFrame: frame("send", FASTIFY, 99), hitCount: SELF.sendB },
  ];
  return { nodes, startTime: 0, endTime: 1_500_000 };
}

interface Box {
  title: string;
  x: number;
  y: number;
  width: number;
  fill: string;
  label: string | undefined;
}

function boxes(svg: string): Box[] {
  const re = /<g><title>([^<]*)<\/title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="\d+" fill="(#[0-9a-f]{6})"\/>(?:<text [^>]*>([^<]*)<\/text>)?<\/g>/g;
  return [...svg.matchAll(re)].map(([, title, x, y, width, fill, label]) => ({ title: title!, x: Number(x), y: Number(y), width: Number(width), fill: fill!, label }));
}

function only(all: Box[], titleStart: string): Box {
  const found = all.filter((b) => b.title.startsWith(titleStart));
  assert.equal(found.length, 1, `one box for '${titleStart}', got ${found.length}`);
  return found[0]!;
}

/** The text a reader sees outside the boxes, lines joined. */
const prose = (svg: string) => svg.replace(/<g>.*?<\/g>/g, "").replace(/<[^>]*>/g, " ").replace(/\s+/g, " ");
const pct = (n: number) => `${((100 * n) / ALL).toFixed(1)} %`;
/** Boxes are drawn half a pixel narrower than their share, so that neighbours show apart. */
const share = (b: Box, plotW = 760) => (b.width + 0.5) / plotW;

describe("flameGraphSvg", () => {
  const svg = flameGraphSvg(fixture(), { title: "Where the gateway spends its CPU", subtitle: "a fixture" });
  const all = boxes(svg);

  it("draws each box as wide as its inclusive samples, with merged paths", () => {
    const expected: Array<[string, number]> = [
      ["all samples", ALL],
      ["(idle)", SELF.idle],
      ["(garbage collector)", SELF.gc],
      ["processTicksAndRejections (node:internal/process/task_queues:72)", TICKS],
      ["proxy (openai-gateway/dist/routes/proxy.js:12)", PROXY],
      ["send (fastify/lib/reply.js:100)", SEND],
      ["writev", SELF.writev],
    ];
    for (const [title, samples] of expected) {
      const b = only(all, `${title} — `);
      assert.ok(Math.abs(share(b) - samples / ALL) < 0.0001, `${title}: ${share(b)} vs ${samples / ALL}`);
    }
    // each merged box once, with every call's samples
    assert.match(only(all, "proxy (").title, new RegExp(`— ${PROXY.toLocaleString("en-US")} samples`));
    assert.match(only(all, "send (").title, new RegExp(`— ${SEND} samples`));
  });

  it("stacks callers below callees, root at the bottom, heaviest on the left", () => {
    const [root, ticks, proxy, send, writev] = ["all samples", "processTicks", "proxy (", "send (", "writev"].map((t) => only(all, t));
    assert.ok(root!.y > ticks!.y && ticks!.y > proxy!.y && proxy!.y > send!.y && send!.y > writev!.y);
    assert.ok(Math.max(...all.map((b) => b.y)) === root!.y, "root is the lowest row");
    assert.equal(ticks!.x, root!.x, "the heaviest child starts at its parent's left edge");
    assert.ok(only(all, "(idle)").x > ticks!.x);
  });

  it("leaves out boxes under 0.1 % of samples", () => {
    assert.ok(SELF.rare / ALL < 0.001);
    assert.ok(!all.some((b) => b.title.startsWith("rare")), "rare is dropped");
    assert.equal(all.length, 9, "every other frame drawn once");
    assert.match(prose(svg), /Boxes under 0\.1 % are left out/);
  });

  it("says in each tooltip where the function is, its samples and its share", () => {
    assert.equal(only(all, "proxy (").title, `proxy (openai-gateway/dist/routes/proxy.js:12) — ${PROXY.toLocaleString("en-US")} samples, ${pct(PROXY)}`);
    assert.equal(only(all, "(idle)").title, `(idle) — ${SELF.idle} samples, ${pct(SELF.idle)}`);
    assert.equal(pct(SELF.idle), "8.3 %");
    assert.equal(only(all, "all samples").title, `all samples — ${ALL.toLocaleString("en-US")} samples, 100.0 %`);
    assert.match(prose(svg), /all 1,201 samples over 1\.5 s/);
  });

  it("escapes function names, in the tooltip and in the label", () => {
    const odd = only(all, "&lt;lambda&gt; &amp; co (");
    assert.equal(odd.title, `&lt;lambda&gt; &amp; co (@acme/json/index.js:4) — ${SELF.odd} samples, ${pct(SELF.odd)}`);
    assert.ok(odd.label?.startsWith("&lt;lambda&gt;"), `label ${odd.label}`);
    assert.ok(!svg.includes("<lambda>"));
  });

  it("labels wide boxes, truncated to fit, and leaves slivers bare", () => {
    assert.equal(only(all, "proxy (").label, "proxy");
    assert.equal(only(all, "all samples").label, "all");
    const program = only(all, "(program)");
    assert.ok(program.width < 14 && program.label === undefined, "a 12 px box has no label");
    const shown = (label: string) => label.replace(/&(amp|lt|gt|quot|apos);/g, "_");
    for (const b of all.filter((x) => x.label)) assert.ok(shown(b.label!).length * 6.6 <= b.width, `'${b.label}' fits in ${b.width} px`);
  });

  it("colours by origin: ours blue, npm packages warm (one colour each), node grey, V8 light grey", () => {
    assert.ok(PALETTE.ours.includes(only(all, "proxy (").fill));
    assert.ok(PALETTE.module.includes(only(all, "send (").fill));
    assert.ok(PALETTE.module.includes(only(all, "&lt;lambda").fill));
    assert.notEqual(only(all, "send (").fill, only(all, "&lt;lambda").fill, "two packages, two colours");
    assert.ok(PALETTE.node.includes(only(all, "processTicks").fill));
    assert.ok(PALETTE.node.includes(only(all, "writev").fill), "a native binding counts as node");
    assert.equal(originOf(frame("wasm-function[20]", "wasm://wasm/00034eea", 0)), "node", "so does WebAssembly");
    assert.equal(packageOf(frame("wasm-function[20]", "wasm://wasm/00034eea", 0)), "(wasm)");
    for (const v8 of ["(idle)", "(program)", "(garbage collector)"]) assert.ok(PALETTE.v8.includes(only(all, v8).fill), v8);
  });

  it("is a well-formed SVG, at the width asked for", () => {
    assertWellFormed(svg);
    assert.match(svg, /^<svg [^>]*width="800"[^>]*viewBox="0 0 800 /);
    const wide = flameGraphSvg(fixture(), { title: "t", width: 1000 });
    assertWellFormed(wide);
    assert.match(wide, /^<svg [^>]*width="1000"[^>]*viewBox="0 0 1000 /);
    assert.ok(Math.abs(share(only(boxes(wide), "send ("), 960) - SEND / ALL) < 0.0001);
  });

  it("cuts stacks deeper than the cap, and says so", () => {
    const deep: CpuProfileNode[] = [{ id: 1, callFrame: frame("(root)"), hitCount: 0, children: [2] }];
    for (let i = 2; i <= 61; i++) deep.push({ id: i, callFrame: frame(`f${i}`, GW, i), hitCount: i === 61 ? 100 : 0, children: i < 61 ? [i + 1] : [] });
    const out = flameGraphSvg({ nodes: deep }, { title: "deep" });
    assertWellFormed(out);
    assert.equal(new Set(boxes(out).map((b) => b.y)).size, MAX_DEPTH + 1, "the root and 40 rows above it");
    assert.match(prose(out), new RegExp(`deeper than ${MAX_DEPTH} frames \\(100\\.0 % of samples\\)`));
    assert.doesNotMatch(svg, /deeper than/, "no note when nothing was cut");
  });

  it("stays small for a big, bushy profile", () => {
    const nodes: CpuProfileNode[] = [];
    let seed = 7;
    const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const add = (depth: number): number => {
      const id = nodes.length + 1;
      const node: CpuProfileNode = { id, callFrame: frame(`fn${Math.floor(rand() * 3000)}`, `file:///x/node_modules/p${id % 30}/i.js`, id), hitCount: Math.floor(rand() * 5), children: [] };
      nodes.push(node);
      if (depth < 60) for (let i = 0, n = depth < 2 ? 8 : rand() < 0.75 ? 1 : 2; i < n && nodes.length < 40_000; i++) node.children!.push(add(depth + 1));
      return id;
    };
    add(0);
    const big = flameGraphSvg({ nodes }, { title: "big" });
    assert.ok(big.length < 1_500_000, `${big.length} bytes`);
    const total = nodes.reduce((n, x) => n + x.hitCount, 0);
    for (const b of boxes(big)) assert.ok(Number(/— ([\d,]+) samples/.exec(b.title)![1]!.replace(/,/g, "")) >= total * 0.001, b.title);
  });
});

describe("self time", () => {
  it("sums a function's own samples over every call path, and by package", () => {
    const profile = fixture();
    const pctOf = (n: number) => Math.round((1000 * n) / ALL) / 10;
    assert.deepEqual(topSelfTime(profile, 3), [
      { name: "send (fastify/lib/reply.js:100)", percent: pctOf(SELF.sendA + SELF.sendB) },
      { name: "proxy (openai-gateway/dist/routes/proxy.js:12)", percent: pctOf(SELF.proxyA + SELF.proxyB) },
      { name: "writev", percent: pctOf(SELF.writev) },
    ]);
    assert.deepEqual(selfTimeByPackage(profile, 4), [
      { name: "fastify", percent: pctOf(SELF.sendA + SELF.sendB) },
      { name: "mcpgw gateway", percent: pctOf(SELF.proxyA + SELF.proxyB + SELF.rare) },
      { name: "(native)", percent: pctOf(SELF.writev) },
      { name: "@acme/json", percent: pctOf(SELF.odd) },
    ]);
  });
});

/** Every open tag closed in order, nothing unescaped between them (as in report.test.ts). */
function assertWellFormed(svg: string) {
  assert.ok(svg.startsWith("<svg "));
  assert.equal(svg.trimEnd().slice(-6), "</svg>");
  const stack: string[] = [];
  for (const [, close, tag, , selfClosing] of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    if (close) assert.equal(stack.pop(), tag, `</${tag}> closes something else`);
    else if (!selfClosing) stack.push(tag!);
  }
  assert.deepEqual(stack, [], `unclosed ${stack.join(", ")}`);
  assert.doesNotMatch(svg.replace(/<[^>]*>/g, ""), /[<>]|&(?!(amp|lt|gt|quot|apos);)/, "unescaped text");
}
