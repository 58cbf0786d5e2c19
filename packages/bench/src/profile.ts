/**
 * `npm run bench:profile`: the gateway under load with V8's sampling profiler on, then the functions
 * that held the CPU, heaviest first. The .cpuprofile it keeps opens as a flame graph in Chrome
 * DevTools (Performance > Load profile) or https://www.speedscope.app.
 *
 *   npm run bench:profile -- [--seconds 10] [--connections 64] [--stream] [--out DIR]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { MCPGW_CLIENT_KEY } from "./contestants/mcpgw.ts";
import { CHAT_BODY, streamBody } from "./load/requests.ts";
import { freePort, spawnPinned, waitForHttp } from "./processes.ts";
import { startUpstream } from "./upstream/start-upstream.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "64" },
    stream: { type: "boolean", default: false },
    out: { type: "string", default: join(tmpdir(), "mcpgw-profile") },
  },
});
const log = (line: string) => process.stderr.write(`[profile] ${line}\n`);

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

async function main() {
  execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  const outDir = values.out!;
  mkdirSync(outDir, { recursive: true });
  for (const f of readdirSync(outDir)) if (f.endsWith(".cpuprofile")) rmSync(join(outDir, f));
  const workDir = mkdtempSync(join(tmpdir(), "mcpgw-profile-"));
  const upstream = await startUpstream(1, "bench-upstream-key", join(workDir, "upstream.log"));
  const port = await freePort();
  const bin = join(REPO, "packages/openai-gateway/bin/openai-gateway.js");
  const gateway = spawnPinned(process.execPath, ["--cpu-prof", `--cpu-prof-dir=${outDir}`, bin, "--port", String(port)], {
    cpu: 0,
    logFile: join(workDir, "gateway.log"),
    env: { OPENAI_BASE_URL: `${upstream.origin}/v1`, OPENAI_API_KEY: upstream.key, GATEWAY_API_KEYS: MCPGW_CLIENT_KEY, LOG_LEVEL: "info" },
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`, gateway, 20_000, join(workDir, "gateway.log"));
    log(`load: ${values.connections} connections for ${values.seconds} s, ${values.stream ? "streaming" : "non-streaming"}`);
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/v1/chat/completions`,
      method: "POST",
      headers: { authorization: `Bearer ${MCPGW_CLIENT_KEY}`, "content-type": "application/json" },
      body: values.stream ? streamBody("bench") : CHAT_BODY,
      connections: Number(values.connections),
      duration: Number(values.seconds),
    });
    log(`${Math.round(result.requests.average)} req/s, ${result.non2xx + result.errors} failed`);
  } finally {
    await gateway.stop(); // SIGTERM: the gateway exits normally, and V8 writes the profile on exit
    await upstream.started.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  const file = readdirSync(outDir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error("the gateway wrote no profile");
  const profile = JSON.parse(readFileSync(join(outDir, file), "utf8")) as { nodes: Node[] };
  const total = profile.nodes.reduce((n, x) => n + x.hitCount, 0);
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  for (const n of profile.nodes) {
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + n.hitCount);
    byPackage.set(packageOf(url, functionName), (byPackage.get(packageOf(url, functionName)) ?? 0) + n.hitCount);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, k).map(([name, hits]) => `${((100 * hits) / total).toFixed(1).padStart(5)} %  ${name}`);
  process.stdout.write(`self time by package:\n${top(byPackage, 15).join("\n")}\n\nself time by function:\n${top(byFunction, 30).join("\n")}\n\nprofile: ${join(outDir, file)}\n`);
}

function shorten(url: string): string {
  const path = url.replace(/^file:\/\//, "");
  return path.startsWith(REPO) ? relative(REPO, path) : path;
}

/** "fastify", "undici", "pino", "mcpgw" (our dist), "node:internal", or the V8 pseudo-frame. */
function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes("packages/openai-gateway/")) return "mcpgw gateway";
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  return url;
}

main().catch((err) => {
  process.stderr.write(`profile: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
