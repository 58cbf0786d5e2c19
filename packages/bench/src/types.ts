/**
 * The shapes shared by the harness: a contestant (something clients send OpenAI requests to) and
 * the raw results file that docs/benchmarks.md is generated from.
 */

/** The gateway configurations of the limits scenario, in the report's order. */
export const LIMITS_VARIANTS = [
  { id: "usage-off", label: "Limits off, usage records off" },
  { id: "off", label: "Limits off (usage records in SQLite, the default)" },
  { id: "memory", label: "Limits in memory" },
  { id: "redis", label: "Limits in Redis" },
] as const;
export type LimitsVariant = (typeof LIMITS_VARIANTS)[number]["id"];

export type ContestantId = "direct" | "mcpgw" | "mcpgw-baseline" | "portkey" | "node-proxy" | "nginx";

/** Everything the harness needs to start a contestant in front of the static upstream. */
export interface StartContext {
  /** http://127.0.0.1:PORT of the static upstream (its API is under /v1). */
  upstreamOrigin: string;
  /** The key the upstream expects as `Authorization: Bearer ...`. */
  upstreamKey: string;
  /** The core the contestant is pinned to (taskset -c). */
  cpu: number;
  /** A scratch directory of this run, removed at the end (config files, logs). */
  workDir: string;
  /** One readable progress line (stderr). */
  log(line: string): void;
}

export interface Contestant {
  id: ContestantId;
  label: string;
  /** Base URL a client uses, ending in /v1. */
  baseUrl: string;
  /** Headers every request carries (auth; Portkey's routing headers). */
  headers: Record<string, string>;
  /** The process (tree) whose RSS is the contestant's memory; undefined for direct. */
  pid: number | undefined;
  version: string;
  stop(): Promise<void>;
}

export interface ContestantSpec {
  id: ContestantId;
  label: string;
  /** Undefined when it can run here, else why not (the report says so instead of a number). */
  unavailable(ctx: StartContext): Promise<string | undefined>;
  start(ctx: StartContext): Promise<Contestant>;
}

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
}

export interface BenchResults {
  mode: "quick" | "full";
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: { cpu: string; cores: number; memGiB: number; os: string; kernel: string; pinning: string };
  /** Name -> version of everything measured or measuring (node, gateway, portkey, nginx, autocannon...). */
  versions: Record<string, string>;
  contestants: Array<{ id: ContestantId; label: string; available: boolean; note?: string }>;
  /** Scenario 1: one request at a time, contestants interleaved in rounds. */
  sequential?: {
    rounds: number;
    requestsPerRound: number;
    byContestant: Partial<Record<ContestantId, LatencySummary & { addedP50Ms: number; addedP99Ms: number; roundP50Ms: number[] }>>;
  };
  /** Scenario 2: autocannon at rising concurrency until throughput stops rising. */
  saturation?: {
    stepDurationS: number;
    byContestant: Partial<
      Record<
        ContestantId,
        {
          steps: Array<LatencySummary & { connections: number; rps: number; errors: number; non2xx: number }>;
          peak: LatencySummary & { connections: number; rps: number; errors: number; non2xx: number };
        }
      >
    >;
  };
  /** Scenario 3: SSE of `chunks` events, paced `intervalMs` apart by the upstream. */
  streaming?: {
    chunks: number;
    intervalMs: number;
    runs: number;
    byContestant: Partial<
      Record<
        ContestantId,
        {
          firstChunkP50Ms: number;
          lastChunkP50Ms: number;
          addedFirstChunkP50Ms: number;
          addedLastChunkP50Ms: number;
          /** Events the client saw per stream (min over runs); equal to `chunks` when nothing was lost. */
          eventsSeen: number;
          /** Events that arrived in the same read as an earlier one (summed over runs): 0 = no coalescing. */
          coalesced: number;
        }
      >
    >;
  };
  /** Scenario 4: resident memory idle and with many concurrent open streams. */
  memory?: {
    openStreams: number;
    byContestant: Partial<Record<ContestantId, { idleRssMb: number; loadedRssMb: number; opened: number; perStreamKb: number }>>;
  };
  /**
   * Scenario 6: our gateway without limits, with limits in memory and in Redis (and with usage
   * records off), side by side in one run: sequential latency over direct, and throughput under load.
   */
  limits?: {
    rounds: number;
    requestsPerRound: number;
    byVariant: Partial<Record<LimitsVariant, LatencySummary & { addedP50Ms: number; addedP99Ms: number }>>;
    /** autocannon at a fixed concurrency, the configurations taking turns: rps and latency the median over rounds, errors summed. */
    load?: {
      connections: number;
      stepDurationS: number;
      rounds: number;
      byVariant: Partial<
        Record<
          LimitsVariant,
          LatencySummary & {
            rps: number;
            errors: number;
            non2xx: number;
            /** Median over rounds of this configuration's rps over limits off's in the same round (neighbours in time, so drift cancels). */
            rpsVsOff?: number;
          }
        >
      >;
    };
    /** Configurations that could not run here, and why. */
    unavailable: Partial<Record<LimitsVariant, string>>;
  };
  /** Scenario 5: the MCP server. */
  mcp?: {
    coldStart: {
      runs: number;
      ours: LatencySummary & { samplesMs: number[] };
      serverEverything: LatencySummary & { samplesMs: number[] };
    };
    toolCall: {
      calls: number;
      /** chat_completion through openai-gateway-mcp over stdio, then the gateway. */
      mcp: LatencySummary;
      /** The same request with the openai SDK straight to the gateway. */
      direct: LatencySummary;
      overheadP50Ms: number;
    };
  };
  /** The targets, each as a ratio or figure measured in this run. */
  targets: Array<{
    name: string;
    target: string;
    measured: string;
    pass: boolean | null;
    /**
     * The same target judged on the bare node:http proxy's figures instead of ours: what a gateway
     * written in Node could reach at best. Absent where the target is not about the gateway process.
     */
    nodeFloor?: string;
  }>;
}
