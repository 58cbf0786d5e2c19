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

/** The ways to make one MCP tool call in the MCP-over-HTTP scenario, in the report's order. */
export const MCP_HTTP_PATHS = [
  { id: "direct", label: "direct: stdio to the server (no HTTP)" },
  { id: "mcpgw-server", label: "mcpgw /mcp/{server}" },
  { id: "mcpgw-aggregate", label: "mcpgw /mcp (every server in one)" },
  { id: "supergateway", label: "supergateway (stateful Streamable HTTP)" },
  { id: "mcp-proxy", label: "mcp-proxy (Streamable HTTP)" },
] as const;
export type McpHttpPath = (typeof MCP_HTTP_PATHS)[number]["id"];

export type ContestantId = "direct" | "mcpgw" | "mcpgw-baseline" | "portkey" | "node-proxy" | "nginx";

/** Everything the harness needs to start a contestant in front of the static upstream. */
export interface StartContext {
  /** http://127.0.0.1:PORT of the static upstream (its API is under /v1). */
  upstreamOrigin: string;
  /** The key the upstream expects as `Authorization: Bearer ...`. */
  upstreamKey: string;
  /** When the upstream is HTTPS: the PEM file of the private CA its certificate chains to, which the contestant must trust. */
  upstreamCa?: string;
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

/** Where a traffic shape's upstream runs: its own process (the run's static upstream), the harness's process, or its own process over HTTPS. */
export type ShapeUpstream = "process" | "in-process" | "https";

/** One traffic shape of scenario 7 and its figures; the ratios are of added latency, and absent where the divisor is not positive. */
export interface ShapeResult {
  id: string;
  label: string;
  requestBytes: number;
  answerBytes: number;
  chunked: boolean;
  upstream: ShapeUpstream;
  byContestant: Partial<
    Record<
      ContestantId,
      LatencySummary & { addedP50Ms: number; addedP99Ms: number; p50VsNodeProxy?: number; p99VsNodeProxy?: number; p50VsPortkey?: number; p99VsPortkey?: number }
    >
  >;
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
  /**
   * Scenario 7, traffic shapes: sequential requests as in scenario 1 for request bodies of ~100 B
   * to ~50 KB, answers of ~1 KB and ~16 KB (with a content-length, or chunked), and an upstream in
   * its own process, in the harness's process, or over HTTPS; every shape and contestant taking turns in each round.
   */
  shapes?: {
    rounds: number;
    requestsPerRound: number;
    warmup: number;
    byShape: ShapeResult[];
    /** The HTTPS upstream's own count of the chat requests it answered, and how many came over TLS, beside what the harness sent to its shapes. */
    tls?: { sent: number; upstreamRequests: number; overTls: number };
    /** What could not be measured here, and why (no openssl; a contestant that did not start or answer in front of an upstream). */
    notes: string[];
  };
  /**
   * The tool loop (issue 16): a chat of a tool-enabled model whose upstream asks for one tool call
   * then answers, against the same round trip done by hand, and the parts measured direct.
   */
  toolLoop?: {
    rounds: number;
    requestsPerRound: number;
    /** The chat through the tool-enabled model: the gateway asks the upstream, runs the tool, asks again. */
    tooled: LatencySummary;
    /** The client does it: request 1 through the gateway (a model without tools), the tool with an MCP SDK Client, request 2. */
    byHand: LatencySummary;
    /** The parts, measured direct: the upstream's first and second answers, and the tool call (an MCP SDK Client over stdio). */
    upstreamFirst: LatencySummary;
    upstreamSecond: LatencySummary;
    toolCall: LatencySummary;
    /** A chat through the gateway with no tools (the same upstream model): what any request costs. */
    plain: LatencySummary;
    /** tooled minus the three parts (p50s): the gateway's own time for its one tool round. */
    ownP50Ms: number;
    /** tooled minus plain minus the second answer and the tool call (p50s): what the round adds to a plain request's own time. */
    roundOverPlainP50Ms: number;
    vsByHandP50: number;
    vsByHandP99: number;
  };
  /** MCP over HTTP (issue 16): one tools/call through each path, side by side in rounds, and what idle sessions cost. */
  mcpHttp?: {
    rounds: number;
    callsPerRound: number;
    /**
     * Each path with the SDK's client; `raw`: the same call over the same session by a bare
     * node:http client (POST, read the SSE answer), which leaves out the SDK client's own cost.
     */
    byPath: Partial<Record<McpHttpPath, LatencySummary & { vsDirectP50: number; vsDirectP99: number; raw?: LatencySummary & { vsDirectP50: number } }>>;
    /** Paths that could not be measured here, and why. */
    unavailable: Partial<Record<McpHttpPath, string>>;
    versions: Partial<Record<McpHttpPath, string>>;
    sessions: {
      /** Idle sessions opened on /mcp, each with its GET stream open, as the SDK's client holds it. */
      opened: number;
      idleRssMb: number;
      loadedRssMb: number;
      perSessionKb: number;
      /** /mcp/{server} of a stdio server: each session holds a server process of its own. */
      perServer?: { opened: number; gatewayPerSessionKb: number; treePerSessionKb: number };
    };
  };
  /** REST tool calls (issue 16): POST /tools/{server}/{tool} against the same call made directly over MCP stdio. */
  restTools?: {
    rounds: number;
    callsPerRound: number;
    rest: LatencySummary;
    direct: LatencySummary;
    vsDirectP50: number;
    vsDirectP99: number;
  };
  /** Cold start with many stdio MCP servers (issue 16): spawn to /ready 200 with all of them ready, and with none configured. */
  mcpServersColdStart?: {
    servers: number;
    runs: number;
    withServers: LatencySummary & { samplesMs: number[] };
    withoutServers: LatencySummary & { samplesMs: number[] };
    /** One server-everything alone on the same core, spawn to its initialize result: for scale (the gateway starts N of them). */
    oneServer: LatencySummary;
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
