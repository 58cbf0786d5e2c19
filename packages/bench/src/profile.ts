/**
 * `npm run bench:profile`: the gateway under load with V8's sampling profiler on, then the functions
 * that held the CPU, heaviest first. Next to the .cpuprofile it keeps (which speedscope, Chrome
 * DevTools and VS Code open) it writes the profile in speedscope's format (gateway.speedscope.json:
 * `npx speedscope FILE`, or drop it into https://www.speedscope.app) and a chart of the top self time
 * (gateway-self-time.svg). --docs puts the speedscope file and a summary (profile.json) in
 * docs/benchmarks/ instead, and renders docs/benchmarks.md again from the results.json there, so the
 * page shows them.
 *
 * --request 4KB or 50KB sends the traffic shapes' larger bodies (an agent's conversation with tools) instead of a short question.
 *
 *   npm run bench:profile -- [--seconds 10] [--connections 64] [--stream] [--request 100B|4KB|50KB] [--out DIR] [--docs]
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { MCPGW_CLIENT_KEY } from "./contestants/mcpgw.ts";
import { CHAT_BODY, streamBody } from "./load/requests.ts";
import { REQUEST_BYTES, requestBody, type RequestSize } from "./load/shaped-requests.ts";
import { freePort, spawnPinned, waitForHttp } from "./processes.ts";
import { selfTimeChart } from "./report/charts.ts";
import { type CpuProfile, type ProfileSummary, selfTimeByPackage, type Share, topSelfTime } from "./report/cpu-profile.ts";
import { toSpeedscope } from "./report/speedscope.ts";
import { PROFILE_FILES, writeReport } from "./report/write-report.ts";
import { judgeTargets } from "./targets.ts";
import type { BenchResults } from "./types.ts";
import { startUpstream } from "./upstream/start-upstream.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    stream: { type: "boolean", default: false },
    request: { type: "string", default: "100B" },
    out: { type: "string", default: join(tmpdir(), "mcpgw-profile") },
    docs: { type: "boolean", default: false },
  },
});
const log = (line: string) => process.stderr.write(`[profile] ${line}\n`);
if (!(values.request! in REQUEST_BYTES)) {
  process.stderr.write(`profile: --request: one of ${Object.keys(REQUEST_BYTES).join(", ")}\n`);
  process.exit(2);
}
const requestSize = values.request as RequestSize;

/** The body autocannon sends: the short question of scenario 1, or a traffic shape's larger body; streamed when asked. */
function loadBody(): string {
  if (requestSize === "100B") return values.stream ? streamBody("bench") : CHAT_BODY;
  const body = requestBody(requestSize, "bench");
  return values.stream ? JSON.stringify({ ...(JSON.parse(body) as object), stream: true }) : body;
}

async function main() {
  const { rps, profilePath } = await underLoad(values.out!);
  const profile = JSON.parse(readFileSync(profilePath, "utf8")) as CpuProfile;
  const lines = (shares: Share[]) => shares.map((s) => `${s.percent.toFixed(1).padStart(5)} %  ${s.name}`).join("\n");
  process.stdout.write(`self time by package:\n${lines(selfTimeByPackage(profile, 15))}\n\nself time by function:\n${lines(topSelfTime(profile, 30))}\n\nprofile: ${profilePath}\n`);
  await writeProfile(profile, rps);
}

/** Runs the gateway with the profiler on under autocannon; returns the mean req/s and the .cpuprofile it wrote into outDir. */
async function underLoad(outDir: string): Promise<{ rps: number; profilePath: string }> {
  execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) if (f.endsWith(".cpuprofile")) rmSync(join(outDir, f));
  const workDir = mkdtempSync(join(tmpdir(), "mcpgw-profile-"));
  const upstream = await startUpstream(1, "bench-upstream-key", join(workDir, "upstream.log"));
  const port = await freePort();
  const bin = join(REPO, "packages/openai-gateway/bin/openai-gateway.js");
  let rps = 0;
  const gateway = spawnPinned(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${outDir}`, bin, "--port", String(port)], {
    cpu: 0,
    logFile: join(workDir, "gateway.log"),
    env: { OPENAI_BASE_URL: `${upstream.origin}/v1`, OPENAI_API_KEY: upstream.key, GATEWAY_API_KEYS: MCPGW_CLIENT_KEY, LOG_LEVEL: "info" },
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`, gateway, 20_000, join(workDir, "gateway.log"));
    log(`load: ${values.connections} connections for ${values.seconds} s, ${values.stream ? "streaming" : "non-streaming"}, ${requestSize} bodies`);
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      method: "POST",
      headers: { authorization: `Bearer ${MCPGW_CLIENT_KEY}`, "content-type": "application/json" },
      body: loadBody(),
      connections: Number(values.connections),
      duration: Number(values.seconds),
    });
    rps = result.requests.average;
    log(`${Math.round(rps)} req/s, ${result.non2xx + result.errors} failed`);
  } finally {
    await gateway.stop(); // SIGTERM: the gateway exits normally, and V8 writes the profile on exit
    await upstream.started.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  const file = readdirSync(outDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error("the gateway wrote no profile");
  return { rps, profilePath: join(outDir, file) };
}

/**
 * The speedscope file and the self-time chart next to the profile; with --docs, the speedscope file and
 * profile.json into docs/benchmarks/, and the page rendered again (which draws the chart there).
 */
async function writeProfile(profile: CpuProfile, rps: number) {
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const stream = values.stream!;
  const summary: ProfileSummary = {
    date: new Date().toISOString(),
    seconds,
    connections,
    stream,
    rps: Math.round(rps),
    topSelf: topSelfTime(profile, 15),
    byPackage: selfTimeByPackage(profile, 10),
  };
  const docsDir = join(REPO, "docs", "benchmarks");
  const dir = values.docs ? docsDir : values.out!;
  mkdirSync(dir, { recursive: true });
  const name = `openai-gateway, ${connections} connections for ${seconds} s${stream ? ", streaming" : ""}, ${summary.rps} req/s`;
  const speedscopePath = join(dir, PROFILE_FILES.speedscope);
  writeFileSync(speedscopePath, JSON.stringify(toSpeedscope(profile, name)));
  process.stdout.write(`speedscope: ${speedscopePath} (npx speedscope ${speedscopePath}, or drop it into https://www.speedscope.app)\n`);
  if (!values.docs) {
    writeFileSync(join(dir, PROFILE_FILES.chart), await selfTimeChart(summary));
    process.stdout.write(`chart: ${join(dir, PROFILE_FILES.chart)}\n`);
    return;
  }

  writeFileSync(join(docsDir, PROFILE_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`summary: ${join(docsDir, PROFILE_FILES.summary)}\n`);
  // The page shows the profile only once it is rendered again; its figures come from the last `npm run bench`.
  const resultsJsonPath = join(docsDir, "results.json");
  if (existsSync(resultsJsonPath)) {
    const results = JSON.parse(readFileSync(resultsJsonPath, "utf8")) as BenchResults;
    // Judged again, so the page follows the current targets even for results of an older run.
    results.targets = judgeTargets(results);
    await writeReport(results, { markdownPath: join(REPO, "docs", "benchmarks.md"), chartsDir: docsDir, resultsJsonPath });
    process.stdout.write(`page: ${join(REPO, "docs", "benchmarks.md")}\n`);
  }
}

main().catch((err) => {
  process.stderr.write(`profile: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
