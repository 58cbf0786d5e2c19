/**
 * `npm run bench`: starts a static upstream and every contestant on 127.0.0.1, runs the six
 * scenarios, and writes the raw results, the charts and docs/benchmarks.md. Everything it starts,
 * it stops; every scenario is bounded in count and time.
 *
 *   npm run bench                       full run (minutes), rewrites docs/benchmarks.md
 *   npm run bench -- --quick            seconds; proves the harness end to end (written to a temp dir)
 *   npm run bench -- --only sequential,saturation --contestants direct,mcpgw,portkey
 *   npm run bench -- --only limits --contestants direct,mcpgw --out /tmp/limits   what limits cost (memory and Redis stores), ~2 min
 *   npm run bench -- --only shapes --out /tmp/shapes   request and answer sizes, chunked answers, in-process and HTTPS upstreams, ~4 min
 *   npm run bench -- --baseline ../before/packages/openai-gateway --out /tmp/ab   our gateway before and after a change
 *   npm run bench -- --only toolloop,mcphttp,resttools,coldstart10 --contestants direct,mcpgw --out /tmp/toolpaths   the tool paths (issue 16), ~3 min
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { direct } from "./contestants/direct.ts";
import { mcpgw, mcpgwBaseline, MCPGW_CLIENT_KEY } from "./contestants/mcpgw.ts";
import { nginx } from "./contestants/nginx.ts";
import { nodeProxy } from "./contestants/node-proxy.ts";
import { portkey } from "./contestants/portkey.ts";
import { machineInfo, toolVersions } from "./machine.ts";
import { writeReport } from "./report/write-report.ts";
import { runMcpScenario } from "./scenarios/mcp.ts";
import { runLimits } from "./scenarios/limits.ts";
import { runMemory } from "./scenarios/memory.ts";
import { runSaturation } from "./scenarios/saturation.ts";
import { runSequential } from "./scenarios/sequential.ts";
import { runShapes } from "./scenarios/shapes.ts";
import { runStreaming } from "./scenarios/streaming.ts";
import { runToolPaths, TOOL_PATH_SCENARIOS } from "./scenarios/tool-paths.ts";
import { judgeTargets } from "./targets.ts";
import type { BenchResults, Contestant, ContestantSpec, StartContext } from "./types.ts";
import { PACED_INTERVAL_MS, STREAM_CHUNKS } from "./upstream/constants.ts";
import { startUpstream } from "./upstream/start-upstream.ts";

const SCENARIOS = ["sequential", "saturation", "streaming", "memory", "mcp", "limits", "shapes"] as const;
const REPO = fileURLToPath(new URL("../../../", import.meta.url));
// The contestant gets core 0 to itself; the upstream, the load generator and this process share core 1.
const CONTESTANT_CPU = 0;
const HARNESS_CPU = 1;

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    contestants: { type: "string" },
    out: { type: "string" },
    baseline: { type: "string" },
  },
});
const BASELINE = values.baseline ? [mcpgwBaseline(values.baseline)] : [];
const ALL: ContestantSpec[] = [direct, mcpgw, ...BASELINE, portkey, nodeProxy, nginx];
const quick = values.quick!;
const only = new Set(values.only ? values.only.split(",") : [...SCENARIOS, ...TOOL_PATH_SCENARIOS]);
const KNOWN: readonly string[] = [...SCENARIOS, ...TOOL_PATH_SCENARIOS];
for (const s of only) if (!KNOWN.includes(s)) fail(`--only: unknown scenario '${s}' (${KNOWN.join(", ")})`);
const wanted = values.contestants ? [...values.contestants.split(","), ...BASELINE.map((s) => s.id)] : ALL.map((s) => s.id);
for (const id of wanted) if (!ALL.some((s) => s.id === id)) fail(`--contestants: unknown '${id}' (${ALL.map((s) => s.id).join(", ")})`);
if (!wanted.includes("direct")) wanted.unshift("direct"); // every "added" figure is over direct
const outDir = values.out ?? (quick ? join(tmpdir(), "mcpgw-bench-quick") : join(REPO, "docs"));

const t0 = performance.now();
const log = (line: string) => process.stderr.write(`[bench +${((performance.now() - t0) / 1000).toFixed(1)}s] ${line}\n`);

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

async function main() {
  execFileSync("taskset", ["-a", "-p", "-c", String(HARNESS_CPU), String(process.pid)], { stdio: "ignore" });
  const startedAt = new Date().toISOString();
  const workDir = mkdtempSync(join(tmpdir(), "mcpgw-bench-"));
  const upstreamKey = "bench-upstream-key-0123456789";
  const upstream = await startUpstream(HARNESS_CPU, upstreamKey, join(workDir, "upstream.log"));
  const ctx: StartContext = { upstreamOrigin: upstream.origin, upstreamKey, cpu: CONTESTANT_CPU, workDir, log };
  const running: Contestant[] = [];
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  async function cleanup() {
    for (const c of running.splice(0)) await c.stop().catch(() => {});
    await upstream.started.stop();
    rmSync(workDir, { recursive: true, force: true });
  }

  try {
    const contestants: BenchResults["contestants"] = [];
    const specs: ContestantSpec[] = [];
    for (const spec of ALL.filter((s) => wanted.includes(s.id))) {
      const why = await spec.unavailable(ctx);
      contestants.push({ id: spec.id, label: spec.label, available: !why, ...(why ? { note: why } : {}) });
      if (why) log(`${spec.id}: unavailable (${why}); the report says so`);
      else specs.push(spec);
    }
    const versions: Record<string, string> = toolVersions();
    for (const spec of specs) {
      const c = await spec.start(ctx);
      running.push(c);
      if (c.id !== "direct") versions[c.label] = c.version;
      log(`${c.id}: ${c.baseUrl} (pid ${c.pid ?? "-"})`);
    }

    const results: Omit<BenchResults, "targets"> = {
      mode: quick ? "quick" : "full",
      startedAt,
      finishedAt: "",
      command: quick ? "npm run bench -- --quick" : "npm run bench",
      machine: machineInfo(`contestant on core ${CONTESTANT_CPU}; upstream, load generator and harness on core ${HARNESS_CPU} (taskset)`),
      versions,
      contestants,
    };
    if (only.has("sequential")) {
      results.sequential = await runSequential(running, quick ? { rounds: 2, requestsPerRound: 20, warmup: 20, log } : { rounds: 15, requestsPerRound: 300, warmup: 1000, log });
    }
    if (only.has("saturation")) {
      results.saturation = await runSaturation(running, quick ? { connections: [4, 16], stepDurationS: 1, log } : { connections: [1, 8, 16, 32, 64, 128, 256], stepDurationS: 6, log });
    }
    if (only.has("streaming")) {
      const shape = quick ? { rounds: 2, streamsPerRound: 10, pacedRuns: 2 } : { rounds: 10, streamsPerRound: 100, pacedRuns: 20 };
      results.streaming = await runStreaming(running, { ...shape, chunks: STREAM_CHUNKS, intervalMs: PACED_INTERVAL_MS, log });
    }
    const gateway = running.find((c) => c.id === "mcpgw");
    if (only.has("mcp") && gateway) {
      results.mcp = await runMcpScenario({ quick, gatewayBaseUrl: gateway.baseUrl, clientKey: MCPGW_CLIENT_KEY, model: "bench", cpu: CONTESTANT_CPU, log });
    }
    if (only.has("shapes")) {
      // Full: ~3.5 min with 5 contestants: 11 shapes, 20 rounds of 240 requests per shape and contestant after 100 untimed
      // (~9 s a round here, ~14 s when the machine is busy); no round starts after 210 s of rounds, so a slow machine still ends in about 4 min.
      const shape = quick ? { rounds: 2, requestsPerRound: 5, warmup: 3, maxSeconds: 60 } : { rounds: 20, requestsPerRound: 240, warmup: 100, maxSeconds: 210 };
      results.shapes = await runShapes(running, specs, { ...ctx, harnessCpu: HARNESS_CPU }, { ...shape, log });
    }
    // The shared contestants go before the limits scenario, which starts gateways of its own on their core,
    // and before memory, which starts every contestant afresh. direct has no process: it stays the floor.
    const direct_ = running.find((c) => c.id === "direct");
    for (const c of running.splice(0)) await c.stop();
    if (only.has("limits") && direct_ && specs.some((s) => s.id === "mcpgw")) {
      // Full: ~2 min: 10 rounds of 300 sequential requests, then 6 turns of 3 s at 64 connections, per configuration
      // (many short turns rather than a few long ones: drift on the machine then hits every configuration alike).
      // 64 connections: about where the gateway's throughput peaks in scenario 2 on this machine.
      const shape = quick
        ? { rounds: 2, requestsPerRound: 20, warmup: 20, connections: 8, stepDurationS: 1, loadRounds: 1 }
        : { rounds: 10, requestsPerRound: 300, warmup: 500, connections: 64, stepDurationS: 3, loadRounds: 6 };
      results.limits = await runLimits(direct_, { ...ctx, harnessCpu: HARNESS_CPU }, { ...shape, log });
    }
    if (specs.some((s) => s.id === "mcpgw")) {
      // Like limits, they start gateways (and MCP servers) of their own on the contestant's core.
      const { versions: peers, ...paths } = await runToolPaths(only, quick, ctx);
      Object.assign(results, paths);
      Object.assign(results.versions, peers);
    }
    if (only.has("memory")) {
      results.memory = await runMemory(specs, ctx, { openStreams: quick ? 50 : 1000, log });
    }
    results.finishedAt = new Date().toISOString();
    const full: BenchResults = { ...results, targets: judgeTargets(results) };
    await writeReport(full, {
      markdownPath: join(outDir, "benchmarks.md"),
      chartsDir: join(outDir, "benchmarks"),
      resultsJsonPath: join(outDir, "benchmarks", "results.json"),
    });
    for (const t of full.targets) log(`target ${t.pass === null ? "--" : t.pass ? "ok" : "MISSED"}: ${t.name} ${t.target}: ${t.measured}`);
    log(`wrote ${join(outDir, "benchmarks.md")}${quick ? " (quick mode: figures are not meaningful)" : ""}`);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
