/**
 * What `npm run bench:profile` makes of a .cpuprofile, read the way a reader reads it: the self-time
 * tables, the speedscope file (checked against the essentials of speedscope's file format), and the
 * chart of the top self time. A small profile whose figures are known, and a real one that
 * `node --cpu-prof` writes here. How the chart reads on the page: report.test.ts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { selfTimeChart } from "../src/report/charts.ts";
import { type CallFrame, type CpuProfile, type CpuProfileNode, packageOf, selfTimeByPackage, topSelfTime } from "../src/report/cpu-profile.ts";
import { type SpeedscopeFile, toSpeedscope } from "../src/report/speedscope.ts";

const GW = "file:///work/main/packages/openai-gateway/dist/routes/proxy.js";
const FASTIFY = "file:///work/main/node_modules/fastify/lib/reply.js";
const SCOPED = "file:///work/main/node_modules/@acme/json/index.js";
const frame = (functionName: string, url = "", lineNumber = -1, columnNumber = -1): CallFrame => ({ functionName, url, lineNumber, columnNumber });

// Self samples of each node; the two proxy nodes are the same function reached twice, as V8 records it.
const SELF = { idle: 100, program: 20, gc: 30, ticks: 10, proxyA: 200, sendA: 300, writev: 240, odd: 150, rare: 1, proxyB: 50, sendB: 100 };
const ALL = Object.values(SELF).reduce((a, b) => a + b, 0); // 1,201
const INTERVAL_US = 1000;

/** The call tree, and one sample a millisecond: each node's samples in one run, node after node. */
function fixture(): CpuProfile {
  const nodes: CpuProfileNode[] = [
    { id: 1, callFrame: frame("(root)"), hitCount: 0, children: [2, 3, 4, 5] },
    { id: 2, callFrame: frame("(idle)"), hitCount: SELF.idle },
    { id: 3, callFrame: frame("(program)"), hitCount: SELF.program },
    { id: 4, callFrame: frame("(garbage collector)"), hitCount: SELF.gc },
    { id: 5, callFrame: frame("processTicksAndRejections", "node:internal/process/task_queues", 71, 34), hitCount: SELF.ticks, children: [6, 11] },
    { id: 6, callFrame: frame("proxy", GW, 11, 2), hitCount: SELF.proxyA, children: [7, 9, 10] },
    { id: 7, callFrame: frame("send", FASTIFY, 99, 4), hitCount: SELF.sendA, children: [8] },
    { id: 8, callFrame: frame("writev"), hitCount: SELF.writev },
    { id: 9, callFrame: frame("<lambda> & co", SCOPED, 3, 0), hitCount: SELF.odd },
    { id: 10, callFrame: frame("rare", GW, 70, 0), hitCount: SELF.rare },
    { id: 11, callFrame: frame("proxy", GW, 11, 2), hitCount: SELF.proxyB, children: [12] },
    { id: 12, callFrame: frame("send", FASTIFY, 99, 4), hitCount: SELF.sendB },
  ];
  const samples = nodes.flatMap((n) => Array.from({ length: n.hitCount }, () => n.id));
  return { nodes, startTime: 0, endTime: 1_500_000, samples, timeDeltas: samples.map((_, i) => (i === 0 ? 0 : INTERVAL_US)) };
}

/** The frames of each sample, outermost first, by name. */
const stacks = (file: SpeedscopeFile) => file.profiles[0]!.samples.map((stack) => stack.map((i) => file.shared.frames[i]!.name));

/** What speedscope needs of a file to open it: its schema, frames with names, and samples that point at them, one weight each. */
function assertSpeedscope(file: SpeedscopeFile) {
  const parsed = JSON.parse(JSON.stringify(file)) as SpeedscopeFile;
  assert.equal(parsed.$schema, "https://www.speedscope.app/file-format-schema.json");
  assert.ok(Array.isArray(parsed.shared.frames) && parsed.shared.frames.length > 0);
  for (const f of parsed.shared.frames) {
    assert.equal(typeof f.name, "string");
    assert.ok(f.name.length > 0);
    for (const k of ["line", "col"] as const) if (f[k] !== undefined) assert.ok(Number.isInteger(f[k]) && f[k]! >= 1, `${f.name}: ${k} ${f[k]}`);
  }
  assert.equal(parsed.profiles.length, 1);
  assert.equal(parsed.activeProfileIndex, 0);
  const p = parsed.profiles[0]!;
  assert.equal(p.type, "sampled");
  assert.equal(p.unit, "microseconds");
  assert.equal(p.samples.length, p.weights.length, "one weight per sample");
  assert.ok(p.samples.length > 0);
  for (const stack of p.samples) for (const i of stack) assert.ok(Number.isInteger(i) && i >= 0 && i < parsed.shared.frames.length, `frame index ${i}`);
  for (const w of p.weights) assert.ok(Number.isFinite(w) && w >= 0, `weight ${w}`);
  assert.ok(p.startValue <= p.endValue);
  assert.ok(p.weights.reduce((a, b) => a + b, 0) <= p.endValue - p.startValue);
}

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
    assert.equal(packageOf(frame("wasm-function[20]", "wasm://wasm/00034eea", 0)), "(wasm)");
  });
});

describe("toSpeedscope", () => {
  const file = toSpeedscope(fixture(), "a fixture");
  const p = file.profiles[0]!;

  it("writes a file in speedscope's format, named", () => {
    assertSpeedscope(file);
    assert.equal(file.name, "a fixture");
    assert.equal(p.name, "a fixture");
  });

  it("has each function once in the frames, with its file and line (1-based), and no (root)", () => {
    const names = file.shared.frames.map((f) => f.name).sort();
    assert.deepEqual(names, ["(garbage collector)", "(idle)", "(program)", "<lambda> & co", "processTicksAndRejections", "proxy", "rare", "send", "writev"]);
    assert.deepEqual(
      file.shared.frames.find((f) => f.name === "proxy"),
      { name: "proxy", file: "openai-gateway/dist/routes/proxy.js", line: 12, col: 3 },
    );
    assert.deepEqual(
      file.shared.frames.find((f) => f.name === "writev"),
      { name: "writev" },
      "a native function has no file",
    );
  });

  it("gives each sample its whole stack, outermost first, and merges runs of the same stack", () => {
    const all = stacks(file);
    assert.equal(all.length, 11, "one run of samples for each node with samples");
    assert.ok(all.some((s) => s.join(" > ") === "processTicksAndRejections > proxy > send > writev"));
    assert.ok(all.some((s) => s.join(" > ") === "(idle)"));
    const writev = all.findIndex((s) => s.at(-1) === "writev");
    assert.equal(p.weights[writev], SELF.writev * INTERVAL_US, "240 samples a millisecond apart: 240 ms");
  });

  it("weighs samples in microseconds: all of them together span the profile", () => {
    assert.equal(p.weights.reduce((a, b) => a + b, 0), (ALL - 1) * INTERVAL_US, "each sample lasts until the next; the last one, nothing");
    assert.equal(p.startValue, 0);
    assert.equal(p.endValue, 1_500_000);
  });

  it("refuses a profile without samples, rather than write an empty one", () => {
    assert.throws(() => toSpeedscope({ nodes: fixture().nodes }, "x"), /no samples/);
  });
});

describe("a real profile from node --cpu-prof", () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-cpuprofile-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let profile: CpuProfile;
  before(() => {
    writeFileSync(
      join(dir, "spin.mjs"),
      ["function spinForAWhile(n) {", "  let x = 0;", "  for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003;", "  return x;", "}", "spinForAWhile(5e7);", ""].join("\n"),
    );
    execFileSync(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${dir}`, join(dir, "spin.mjs")], { timeout: 60_000 });
    profile = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))!), "utf8")) as CpuProfile;
  });

  it("puts the function that spins at the top of the self time", () => {
    const [top] = topSelfTime(profile, 5);
    assert.match(top!.name, /^spinForAWhile \(.*spin\.mjs:1\)$/);
    assert.ok(top!.percent > 50, `${top!.percent} %`);
  });

  it("becomes a speedscope file where the spinning function holds most of the time", () => {
    const file = toSpeedscope(profile, "spin");
    assertSpeedscope(file);
    const p = file.profiles[0]!;
    const spin = file.shared.frames.findIndex((f) => f.name === "spinForAWhile");
    assert.ok(spin >= 0, "the function is a frame");
    assert.match(file.shared.frames[spin]!.file!, /spin\.mjs$/);
    assert.equal(file.shared.frames[spin]!.line, 1);
    const onTop = p.samples.reduce((sum, stack, i) => sum + (stack.at(-1) === spin ? p.weights[i]! : 0), 0);
    assert.ok(onTop > 0.5 * (p.endValue - p.startValue), `${onTop} of ${p.endValue} µs`);
    const total = (profile.endTime! - profile.startTime!) / 1e6;
    assert.ok(Math.abs(p.endValue / 1e6 - total) < 0.01, "the profile's span, in microseconds");
  });

  it("tops the self-time chart", async () => {
    const topSelf = topSelfTime(profile, 15);
    const svg = await selfTimeChart({ date: new Date().toISOString(), seconds: 1, connections: 1, stream: false, rps: 0, topSelf, byPackage: [] });
    const drawn = [...svg.matchAll(/<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="bar"/g)].map((m) => m[1]!);
    assert.equal(drawn.length, topSelf.length, "a bar per function");
    assert.match(drawn[0]!, /^spinForAWhile \(.*spin\.mjs:1\): \d+\.\d %$/);
  });
});
