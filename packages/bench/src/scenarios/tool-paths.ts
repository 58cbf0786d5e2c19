/**
 * The tool paths of issue 16, as the harness runs them: which scenarios there are, their quick and
 * full shapes, and the order they run in. Each starts the gateways and MCP servers it needs on the
 * contestant's core and stops them, so the harness runs them once the shared contestants are gone.
 * Not part of the default run: `--only toolloop,mcphttp,resttools,coldstart10` (full: ~3 min).
 */
import type { BenchResults, StartContext } from "../types.ts";
import { runMcpHttp } from "./mcp-http.ts";
import { runMcpServersColdStart } from "./mcp-servers-cold-start.ts";
import { runRestTools } from "./rest-tools.ts";
import { runToolLoop } from "./tool-loop.ts";

export const TOOL_PATH_SCENARIOS = ["toolloop", "mcphttp", "resttools", "coldstart10"] as const;
export type ToolPathScenario = (typeof TOOL_PATH_SCENARIOS)[number];

type ToolPathResults = Pick<BenchResults, "toolLoop" | "mcpHttp" | "restTools" | "mcpServersColdStart" | "versions">;

const SHAPES = {
  quick: {
    toolloop: { rounds: 2, callsPerRound: 10, warmup: 5 },
    mcphttp: { rounds: 2, callsPerRound: 20, warmup: 10, sessions: 10, proxied: 2 },
    resttools: { rounds: 2, callsPerRound: 20, warmup: 10 },
    coldstart10: { servers: 10, runs: 1 },
  },
  full: {
    toolloop: { rounds: 15, callsPerRound: 200, warmup: 100 },
    mcphttp: { rounds: 15, callsPerRound: 200, warmup: 100, sessions: 200, proxied: 10 },
    resttools: { rounds: 15, callsPerRound: 300, warmup: 200 },
    coldstart10: { servers: 10, runs: 5 },
  },
};

/** The tool-path scenarios named in `only`, in order; the versions of the peers they measured go beside the others. */
export async function runToolPaths(only: ReadonlySet<string>, quick: boolean, ctx: StartContext): Promise<Partial<ToolPathResults>> {
  const shape = quick ? SHAPES.quick : SHAPES.full;
  const log = ctx.log;
  const out: Partial<ToolPathResults> = {};
  if (only.has("toolloop")) out.toolLoop = await runToolLoop(ctx, { ...shape.toolloop, log });
  if (only.has("mcphttp")) {
    out.mcpHttp = await runMcpHttp(ctx, { ...shape.mcphttp, log });
    out.versions = Object.fromEntries(Object.entries(out.mcpHttp.versions).map(([id, v]) => [id, v!]));
  }
  if (only.has("resttools")) out.restTools = await runRestTools(ctx, { ...shape.resttools, log });
  if (only.has("coldstart10")) out.mcpServersColdStart = await runMcpServersColdStart(ctx, { ...shape.coldstart10, log });
  return out;
}
