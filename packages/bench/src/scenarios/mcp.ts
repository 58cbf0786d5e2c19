/**
 * Scenario 5, the MCP server: cold start of openai-gateway-mcp against the reference
 * server-everything, and what a chat_completion call through it adds over calling the gateway
 * directly. The harness runs the gateway (in front of the static upstream) and passes its URL.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { percentile } from "../load/requests.ts";
import type { BenchResults, LatencySummary } from "../types.ts";
import { coldStarts, type StdioServer } from "./mcp-cold-start.ts";
import { toolCalls } from "./mcp-tool-call.ts";

export interface McpScenarioOptions {
  quick: boolean;
  /** http://127.0.0.1:PORT/v1 of our gateway. */
  gatewayBaseUrl: string;
  clientKey: string;
  model: string;
  /** The core the MCP server processes are pinned to. */
  cpu: number;
  log(line: string): void;
}

const SIZES = {
  quick: { coldStartRuns: 3, calls: 20 },
  full: { coldStartRuns: 30, calls: 500 },
};
const WARMUP_CALLS = 20;
const BLOCK = 10;

export async function runMcpScenario(opts: McpScenarioOptions): Promise<NonNullable<BenchResults["mcp"]>> {
  const size = opts.quick ? SIZES.quick : SIZES.full;
  const oursCli = ourCli();
  const ours: StdioServer = {
    args: [oursCli],
    env: { GATEWAY_URL: opts.gatewayBaseUrl, GATEWAY_API_KEY: opts.clientKey, DEFAULT_MODEL: opts.model },
  };
  const theirs: StdioServer = { args: [serverEverythingBin(), "stdio"], env: {} };

  const cold = await coldStarts(ours, theirs, { runs: size.coldStartRuns, cpu: opts.cpu, log: opts.log });
  const calls = await toolCalls({
    serverArgs: [oursCli],
    gatewayBaseUrl: opts.gatewayBaseUrl,
    clientKey: opts.clientKey,
    model: opts.model,
    calls: size.calls,
    warmup: WARMUP_CALLS,
    block: BLOCK,
    cpu: opts.cpu,
    log: opts.log,
  });

  const mcp = summarize(calls.mcp);
  const direct = summarize(calls.direct);
  return {
    coldStart: {
      runs: size.coldStartRuns,
      ours: { ...summarize(cold.ours), samplesMs: cold.ours.map(round) },
      serverEverything: { ...summarize(cold.theirs), samplesMs: cold.theirs.map(round) },
    },
    toolCall: { calls: size.calls, mcp, direct, overheadP50Ms: round(mcp.p50Ms - direct.p50Ms) },
  };
}

/** The built bin of openai-gateway-mcp, found through node_modules like any installed package. */
function ourCli(): string {
  return fileURLToPath(new URL("./cli.js", import.meta.resolve("@mcpgw/openai-gateway-mcp")));
}

/** server-everything's bin; its first argument picks the transport. */
function serverEverythingBin(): string {
  const pkgUrl = import.meta.resolve("@modelcontextprotocol/server-everything/package.json");
  const pkg = JSON.parse(readFileSync(new URL(pkgUrl), "utf8")) as { bin: Record<string, string> };
  return fileURLToPath(new URL(pkg.bin["mcp-server-everything"]!, pkgUrl));
}

function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50Ms: round(percentile(sorted, 50)), p99Ms: round(percentile(sorted, 99)) };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
