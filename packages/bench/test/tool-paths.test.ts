/**
 * `npm run bench -- --quick --only toolloop,mcphttp,resttools,coldstart10`: the tool-path
 * scenarios end to end, against the real gateway, server-everything, supergateway and mcp-proxy.
 * No assertion on timings (this machine is shared and noisy): only that every figure is there, the
 * report has its sections, and nothing the harness started outlives it.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import type { BenchResults } from "../src/types.ts";
import { leftBehindAfterAMoment, processesNow } from "./left-behind.ts";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "bench-tool-paths-"));
let results: BenchResults;
let page: string;
let before_: Set<number>;

const positive = (x: number | undefined, what: string) => assert.ok(typeof x === "number" && Number.isFinite(x) && x > 0, `${what}: ${x}`);

before(async () => {
  before_ = processesNow();
  const args = [CLI, "--quick", "--only", "toolloop,mcphttp,resttools,coldstart10", "--contestants", "direct,mcpgw", "--out", out];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "inherit", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
    process.stderr.write(c);
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, `the quick tool-path run failed:\n${stderr}`);
  results = JSON.parse(readFileSync(join(out, "benchmarks", "results.json"), "utf8")) as BenchResults;
  page = readFileSync(join(out, "benchmarks.md"), "utf8");
});
after(() => rmSync(out, { recursive: true, force: true }));

test("the tool loop: the tool-enabled chat, by hand, and every part measured direct", () => {
  const t = results.toolLoop!;
  for (const k of ["tooled", "byHand", "upstreamFirst", "upstreamSecond", "toolCall", "plain"] as const) {
    positive(t[k].p50Ms, `toolLoop.${k}.p50Ms`);
    positive(t[k].p99Ms, `toolLoop.${k}.p99Ms`);
  }
  assert.ok(Number.isFinite(t.ownP50Ms) && Number.isFinite(t.roundOverPlainP50Ms), "toolLoop.ownP50Ms, roundOverPlainP50Ms");
  positive(t.vsByHandP50, "toolLoop.vsByHandP50");
});

test("MCP over HTTP: every path measured, or said why not; ours and direct always; idle sessions priced", () => {
  const m = results.mcpHttp!;
  for (const id of ["direct", "mcpgw-server", "mcpgw-aggregate"] as const) positive(m.byPath[id]?.p50Ms, `mcpHttp ${id}`);
  for (const id of ["mcpgw-server", "mcpgw-aggregate"] as const) positive(m.byPath[id]?.raw?.p50Ms, `mcpHttp ${id}, bare HTTP client`);
  assert.equal(m.byPath.direct!.raw, undefined, "stdio has no HTTP to time bare");
  for (const id of ["supergateway", "mcp-proxy"] as const) {
    if (m.unavailable[id] === undefined) positive(m.byPath[id]?.p50Ms, `mcpHttp ${id}`);
    else assert.match(m.unavailable[id]!, /\S/);
  }
  assert.equal(m.byPath.direct!.vsDirectP50, 1);
  assert.equal(m.sessions.opened, 10);
  assert.ok(Number.isFinite(m.sessions.perSessionKb));
  positive(m.sessions.idleRssMb, "idle RSS");
  assert.equal(m.sessions.perServer?.opened, 2);
  positive(m.sessions.perServer?.treePerSessionKb, "a /mcp/{server} session's server process");
});

test("REST tool calls and the cold start with 10 servers have their figures", () => {
  positive(results.restTools!.rest.p50Ms, "rest");
  positive(results.restTools!.direct.p50Ms, "rest's direct");
  positive(results.restTools!.vsDirectP50, "rest over direct");
  const c = results.mcpServersColdStart!;
  assert.equal(c.servers, 10);
  assert.equal(c.withServers.samplesMs.length, c.runs);
  positive(c.withServers.p50Ms, "cold start with 10 servers");
  positive(c.withoutServers.p50Ms, "cold start with none");
  positive(c.oneServer.p50Ms, "one server-everything alone");
});

test("the targets of the tool paths are judged on this run's figures", () => {
  for (const name of ["tool loop", "vs direct stdio", "vs supergateway", "vs mcp-proxy", "per idle /mcp session"]) {
    const t = results.targets.find((x) => x.name.includes(name));
    assert.ok(t, `target '${name}'`);
    if (!name.includes("vs supergateway") && !name.includes("vs mcp-proxy")) assert.notEqual(t.pass, null, `${name} was judged`);
  }
});

test("the report has a section for each, with its table", () => {
  for (const h of ["## Tool loop", "## MCP over HTTP", "## REST tool calls", "## Cold start with 10 MCP servers"]) {
    const section = page.slice(page.indexOf(h)).split("\n## ")[0]!;
    assert.ok(page.includes(h), `${h} missing`);
    assert.match(section, /\n\| .* \|\n\| --- \|/, `${h} has no table`);
  }
  assert.match(page, /gateway's own time per tool round: -?\d+\.\d\d ms/);
  assert.doesNotMatch(page, /NaN|undefined/);
});

test("everything the harness started, it stopped", async () => {
  assert.deepEqual(await leftBehindAfterAMoment(before_), []);
});
