/**
 * Cold start with many stdio MCP servers (issue 16): our gateway configured with N copies of
 * server-everything under different names, every one `required`, so that /ready answers 200 only
 * once all are connected and listed. Timed from just before spawn to the first 200 from /ready
 * that shows all N ready, polled every POLL_MS; beside it, the same gateway with no MCP servers
 * (spawn to its first 200), the floor, and, for scale, one server-everything alone on the same core
 * (spawn to its initialize result, as in scenario 5). They take turns, the order rotating every run.
 *
 * The gateway and its children share the contestant's core, as in a container given one CPU: the
 * N servers start in parallel, so what is measured includes N node processes starting on one core.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MCPGW_CLIENT_KEY, MCPGW_PACKAGE } from "../contestants/mcpgw.ts";
import { percentile } from "../load/requests.ts";
import { freePort, spawnPinned } from "../processes.ts";
import type { BenchResults, LatencySummary, StartContext } from "../types.ts";
import { everythingServer, waitForServersReady } from "./everything-gateway.ts";
import { coldStartMs } from "./mcp-cold-start.ts";
import { round3 } from "./timed-rounds.ts";

const POLL_MS = 10;
const READY_TIMEOUT_MS = 60_000;

export interface ColdStartShape {
  servers: number;
  runs: number;
  log(line: string): void;
}

export async function runMcpServersColdStart(ctx: StartContext, shape: ColdStartShape): Promise<NonNullable<BenchResults["mcpServersColdStart"]>> {
  const provider = { up: { type: "openai", baseUrl: `${ctx.upstreamOrigin}/v1`, apiKey: "${OPENAI_API_KEY}" } };
  const servers = Object.fromEntries(Array.from({ length: shape.servers }, (_, i) => [`everything${String(i + 1).padStart(2, "0")}`, { ...everythingServer(), required: true }]));
  const configs = {
    with: writeConfig(ctx, "coldstart-with-servers", { providers: provider, passthrough: "up", mcpServers: servers }),
    without: writeConfig(ctx, "coldstart-no-servers", { providers: provider, passthrough: "up" }),
  };
  const samples = { with: [] as number[], without: [] as number[], one: [] as number[] };
  const kinds = ["with", "without", "one"] as const;
  const one = { args: everythingServer().args, env: {} };
  for (let r = 0; r < shape.runs; r++) {
    for (const which of kinds.map((_, i) => kinds[(i + r) % kinds.length]!)) {
      samples[which].push(which === "one" ? await coldStartMs(one, ctx.cpu) : await coldStart(ctx, configs[which], which === "with" ? shape.servers : 0));
    }
    shape.log(
      `cold start: run ${r + 1}/${shape.runs}: ${shape.servers} MCP servers ${samples.with.at(-1)!.toFixed(0)} ms, none ${samples.without.at(-1)!.toFixed(0)} ms, one server-everything alone ${samples.one.at(-1)!.toFixed(0)} ms`,
    );
  }
  const alone = figures(samples.one);
  return { servers: shape.servers, runs: shape.runs, withServers: figures(samples.with), withoutServers: figures(samples.without), oneServer: { p50Ms: alone.p50Ms, p99Ms: alone.p99Ms } };
}

function writeConfig(ctx: StartContext, name: string, config: object): string {
  const file = join(ctx.workDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/** One start: milliseconds from spawn to /ready's 200 with `servers` ready; the gateway (and so its servers) stopped on return. */
async function coldStart(ctx: StartContext, configFile: string, servers: number): Promise<number> {
  const port = await freePort();
  const logFile = join(ctx.workDir, `coldstart-${servers}.log`);
  const t0 = performance.now();
  const started = spawnPinned(process.execPath, [join(MCPGW_PACKAGE, "bin", "openai-gateway.js"), "--port", String(port), "--config", configFile], {
    cpu: ctx.cpu,
    logFile,
    env: { OPENAI_API_KEY: ctx.upstreamKey, GATEWAY_API_KEYS: MCPGW_CLIENT_KEY, GATEWAY_DATA_DIR: join(ctx.workDir, "coldstart-data"), LOG_LEVEL: "info" },
  });
  const stopWaiting = new AbortController();
  const exitedEarly = started.exited.then((code) => {
    if (!stopWaiting.signal.aborted) throw new Error(`the gateway exited with ${code} before it was ready (log: ${logFile})`);
  });
  exitedEarly.catch(() => {}); // the race below reports it
  try {
    await Promise.race([waitForServersReady(`http://127.0.0.1:${port}`, servers, READY_TIMEOUT_MS, POLL_MS, stopWaiting.signal), exitedEarly]);
    return performance.now() - t0;
  } finally {
    stopWaiting.abort();
    await started.stop();
  }
}

function figures(samples: number[]): LatencySummary & { samplesMs: number[] } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50Ms: round3(percentile(sorted, 50)), p99Ms: round3(percentile(sorted, 99)), samplesMs: samples.map(round3) };
}
