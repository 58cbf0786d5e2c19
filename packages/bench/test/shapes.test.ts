/**
 * `npm run bench -- --quick --only shapes` with direct, our gateway and the bare node proxy (and
 * nginx where it is installed): every traffic shape has figures for each, the page has the section,
 * the HTTPS shapes really went over TLS (by the HTTPS upstream's own count), and every process the
 * run started is gone. No assertion on timings: this machine is shared and noisy.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { mcpgw } from "../src/contestants/mcpgw.ts";
import { nginx } from "../src/contestants/nginx.ts";
import { nodeProxy } from "../src/contestants/node-proxy.ts";
import { completionText } from "../src/load/requests.ts";
import { SHAPES } from "../src/scenarios/shapes-list.ts";
import type { BenchResults, ContestantId } from "../src/types.ts";
import { makePrivateCa } from "../src/upstream/private-ca.ts";
import { startTlsUpstream } from "../src/upstream/shaped-upstream.ts";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "bench-shapes-"));
const hasNginx = ["/usr/sbin/nginx", ...(process.env.PATH ?? "").split(":").map((d) => join(d, "nginx"))].some((p) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
});
const CONTESTANTS: ContestantId[] = ["direct", "mcpgw", "node-proxy", ...(hasNginx ? (["nginx"] as const) : [])];

let results: BenchResults;
let page: string;
let stderr = "";

before(async () => {
  const child = spawn(process.execPath, [CLI, "--quick", "--only", "shapes", "--contestants", CONTESTANTS.join(","), "--out", out], { stdio: ["ignore", "inherit", "pipe"] });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
    process.stderr.write(c);
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 0, `npm run bench -- --quick --only shapes failed:\n${stderr}`);
  results = JSON.parse(readFileSync(join(out, "benchmarks", "results.json"), "utf8")) as BenchResults;
  page = readFileSync(join(out, "benchmarks.md"), "utf8");
});
after(() => rmSync(out, { recursive: true, force: true }));

test("every shape has figures for every contestant, and nothing was left out", () => {
  const s = results.shapes!;
  assert.deepEqual(s.notes, []);
  assert.deepEqual(s.byShape.map((x) => x.id), SHAPES.map((x) => x.id));
  assert.equal(s.rounds, 2);
  for (const shape of s.byShape) {
    assert.deepEqual(Object.keys(shape.byContestant).sort(), [...CONTESTANTS].sort(), shape.id);
    for (const [id, e] of Object.entries(shape.byContestant)) {
      assert.ok(e!.p50Ms > 0 && e!.p99Ms >= e!.p50Ms, `${shape.id} ${id}: p50 ${e!.p50Ms}, p99 ${e!.p99Ms}`);
      assert.ok(Number.isFinite(e!.addedP50Ms) && Number.isFinite(e!.addedP99Ms), `${shape.id} ${id}: added`);
    }
    assert.equal(shape.byContestant.direct!.addedP50Ms, 0);
    // Our gateway's added latency as a ratio to the node proxy's, wherever the proxy's is above zero.
    if (shape.byContestant["node-proxy"]!.addedP50Ms > 0) assert.ok(Number.isFinite(shape.byContestant.mcpgw!.p50VsNodeProxy), `${shape.id}: ratio`);
  }
  const sizes = new Set(s.byShape.map((x) => `${x.requestBytes}/${x.answerBytes}/${x.chunked}/${x.upstream}`));
  assert.equal(sizes.size, SHAPES.length, "no two shapes alike");
  assert.deepEqual([...new Set(s.byShape.map((x) => x.requestBytes))].sort((a, b) => a - b), [100, 4096, 51200]);
});

test("the HTTPS shapes went over TLS: the HTTPS upstream counted every request sent to them, each on a TLS connection", () => {
  const s = results.shapes!;
  const https = s.byShape.filter((x) => x.upstream === "https").length;
  assert.ok(https >= 1);
  // Per shape and contestant: one checked answer, the warmup, then the rounds.
  const expected = https * CONTESTANTS.length * (1 + s.warmup + s.rounds * s.requestsPerRound);
  assert.deepEqual(s.tls, { sent: expected, upstreamRequests: expected, overTls: expected });
});

test("the page has the section: a row per shape, the ratios, the TLS count; the two targets are judged", () => {
  const section = page.slice(page.indexOf("## 7. Traffic shapes")).split("\n## ")[0]!;
  assert.ok(page.includes("## 7. Traffic shapes"));
  for (const shape of SHAPES) assert.match(section, new RegExp(`^\\| ${shape.id} \\| `, "m"), shape.id);
  assert.match(section, /ratio to the bare node:http proxy's/);
  assert.match(section, /Over TLS: the HTTPS upstream answered \d+ chat requests/);
  assert.doesNotMatch(section, /NaN|undefined/);
  for (const name of ["added p50 vs bare node proxy, worst traffic shape", "added p99 vs bare node proxy, worst traffic shape"]) {
    const t = results.targets.find((x) => x.name === name);
    assert.ok(t, name);
    assert.match(t.measured, /^-?\d+\.\d\d x on [a-z0-9-]+ \(/, `${name}: ${t.measured}`);
  }
});

test("every contestant verifies the HTTPS upstream's certificate: told to trust another CA, it gets no answer", async () => {
  const dir = mkdtempSync(join(tmpdir(), "bench-shapes-ca-"));
  const right = makePrivateCa(join(dir, "right"));
  const other = makePrivateCa(join(dir, "other"));
  const tls = await startTlsUpstream({ cpu: 1, key: "k", ...right, logFile: join(dir, "tls.log") });
  const body = JSON.stringify({ model: "bench-answer-1k-length", messages: [{ role: "user", content: "hi" }] });
  try {
    for (const spec of [mcpgw, nodeProxy, ...(hasNginx ? [nginx] : [])]) {
      for (const [which, ca] of [["its CA", right.caFile], ["another CA", other.caFile]] as const) {
        const workDir = join(dir, `${spec.id}-${which.replace(" ", "-")}`);
        mkdirSync(workDir);
        const c = await spec.start({ upstreamOrigin: tls.origin, upstreamKey: "k", upstreamCa: ca, cpu: 0, workDir, log: () => {} });
        const agent = new Agent({ keepAlive: false });
        try {
          const answer = await completionText(agent, c, body).then((text) => text.length, (err: Error) => err.message);
          if (which === "its CA") assert.equal(answer, 1024, `${spec.id} trusting ${which}`);
          else assert.match(String(answer), /status 50\d/, `${spec.id} trusting ${which}`);
        } finally {
          agent.destroy();
          await c.stop();
        }
      }
    }
    assert.deepEqual(await tls.counts(), { requests: hasNginx ? 3 : 2, overTls: hasNginx ? 3 : 2 }, "only the trusting ones got through");
  } finally {
    await tls.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("everything the run started, it stopped", () => {
  const pids = [...stderr.matchAll(/\((?:master )?pid (\d+)/g)].map((m) => Number(m[1]));
  // The main contestants, the HTTPS upstream and the contestants in front of the two other upstreams.
  assert.ok(pids.length >= 1 + 3 * (CONTESTANTS.length - 1), `pids seen: ${pids.join(", ")}`);
  const alive = pids.filter((pid) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
  assert.deepEqual(alive, [], execFileSync("ps", ["-o", "pid=,args=", "-p", alive.join(",") || "1"], { encoding: "utf8" }));
});
