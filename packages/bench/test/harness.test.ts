/**
 * `npm run bench -- --quick` end to end, as CI runs it: every contestant that can run here is
 * started, measured in all six scenarios and stopped, and the report is written. No assertion on
 * timings (this machine is shared and noisy): only on what must hold whatever the speed.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { BenchResults } from "../src/types.ts";
import { leftBehindAfterAMoment, processesNow } from "./left-behind.ts";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "bench-quick-"));
let results: BenchResults;
let stderr = "";
let before_: Set<number>;

before(async () => {
  before_ = processesNow();
  const child = spawn(process.execPath, [CLI, "--quick", "--out", out], { stdio: ["ignore", "inherit", "pipe"] });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
    process.stderr.write(c);
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, `npm run bench -- --quick failed:\n${stderr}`);
  results = JSON.parse(readFileSync(join(out, "benchmarks", "results.json"), "utf8")) as BenchResults;
});
after(() => rmSync(out, { recursive: true, force: true }));

test("every contestant is measured here, or the report says why not; ours and the floors always run", () => {
  assert.equal(results.mode, "quick");
  const ids = results.contestants.map((c) => c.id);
  assert.deepEqual([...ids].sort(), ["direct", "mcpgw", "nginx", "node-proxy", "portkey"]);
  for (const c of results.contestants) if (!c.available) assert.match(c.note ?? "", /\S/, `${c.id} unavailable without a reason`);
  for (const id of ["direct", "mcpgw", "node-proxy", "portkey"] as const) {
    assert.ok(results.contestants.find((c) => c.id === id)!.available, `${id} must run on any machine with npm`);
  }
});

test("all five scenarios have figures for every available contestant", () => {
  const available = results.contestants.filter((c) => c.available).map((c) => c.id);
  for (const id of available) {
    assert.ok(results.sequential!.byContestant[id]!.p50Ms > 0, `sequential ${id}`);
    assert.ok(results.saturation!.byContestant[id]!.peak.rps > 0, `saturation ${id}`);
    assert.ok(results.streaming!.byContestant[id]!.lastChunkP50Ms > 0, `streaming ${id}`);
    if (id !== "direct") assert.ok(results.memory!.byContestant[id]!.idleRssMb > 5, `memory ${id}`);
  }
  const mcp = results.mcp!;
  assert.equal(mcp.coldStart.ours.samplesMs.length, mcp.coldStart.runs);
  assert.equal(mcp.coldStart.serverEverything.samplesMs.length, mcp.coldStart.runs);
  assert.ok(mcp.toolCall.mcp.p50Ms > 0 && mcp.toolCall.direct.p50Ms > 0);
  // Nine of scenarios 1-6, two of the traffic shapes, five of the tool paths.
  assert.equal(results.targets.length, 16);
});

test("the limits scenario measures every configuration, or says why not; none is refused or fails under load", () => {
  const l = results.limits!;
  for (const id of ["usage-off", "off", "memory"] as const) {
    assert.ok(l.byVariant[id]!.p50Ms > 0, `limits ${id}`);
    assert.ok(l.load!.byVariant[id]!.rps > 0, `limits load ${id}`);
  }
  if (l.unavailable.redis === undefined) assert.ok(l.byVariant.redis!.p50Ms > 0 && l.load!.byVariant.redis!.rps > 0, "limits redis");
  else assert.match(l.unavailable.redis, /\S/);
  for (const [id, e] of Object.entries(l.load!.byVariant)) assert.equal(e!.errors + e!.non2xx, 0, `limits ${id} under load`);
});

test("under load nothing fails: no errors and no non-2xx through our gateway or direct", () => {
  for (const id of ["direct", "mcpgw"] as const) {
    for (const step of results.saturation!.byContestant[id]!.steps) {
      assert.equal(step.errors + step.non2xx, 0, `${id} at ${step.connections} connections`);
    }
  }
});

test("streams arrive whole through every contestant: every event the upstream sent, none lost", () => {
  for (const [id, s] of Object.entries(results.streaming!.byContestant)) {
    assert.equal(s!.eventsSeen, results.streaming!.chunks, `${id} lost events`);
  }
  const mem = results.memory!;
  for (const [id, m] of Object.entries(mem.byContestant)) assert.equal(m!.opened, mem.openStreams, `${id} could not hold all streams open`);
});

test("the report is written: the page with its quick-mode warning, every chart it links, the raw results", () => {
  const page = readFileSync(join(out, "benchmarks.md"), "utf8");
  assert.match(page, /Quick mode: figures are not meaningful/);
  const links = [...page.matchAll(/\]\((benchmarks\/[^)]+)\)/g)].map((m) => m[1]!);
  assert.ok(links.filter((l) => l.endsWith(".svg")).length >= 5, `charts linked: ${links.join(", ")}`);
  for (const link of links) assert.ok(existsSync(join(out, link)), `${link} is missing`);
  assert.doesNotMatch(page, /NaN|undefined/);
});

test("everything the harness started, it stopped", async () => {
  assert.deepEqual(await leftBehindAfterAMoment(before_), []);
});
