/** Which charts a results file gets (one or two per scenario that ran), and the CPU profile's. */
import type { TopLevelSpec } from "vega-lite";
import type { BenchResults, ContestantId } from "../types.ts";
import { barChart, type BarRow } from "./bar-chart.ts";
import type { ProfileSummary } from "./cpu-profile.ts";
import * as fmt from "./format.ts";
import { lineChart } from "./line-chart.ts";
import { renderSvg } from "./vega.ts";

export type Scenario = "sequential" | "saturation" | "streaming" | "memory" | "mcp";

export interface Chart {
  scenario: Scenario;
  /** File name inside the charts directory. */
  file: string;
  alt: string;
  spec: TopLevelSpec;
}

const OURS_NOTE = "ours in blue";

/** Each chart with its SVG, rendered from its spec. */
export async function renderCharts(results: BenchResults): Promise<Array<Chart & { svg: string }>> {
  return Promise.all(buildCharts(results).map(async (c) => ({ ...c, svg: await renderSvg(c.spec) })));
}

export function buildCharts(results: BenchResults): Chart[] {
  const charts: Chart[] = [];
  const { sequential, saturation, streaming, memory, mcp } = results;
  if (sequential) {
    charts.push({
      scenario: "sequential",
      file: "added-latency.svg",
      alt: "Added latency over direct, p50 and p99, per contestant",
      spec: barChart({
        title: "Latency added over a direct call",
        subtitle: `One request at a time; lower is better; ${OURS_NOTE}.`,
        series: ["p50", "p99"],
        panels: [{ axis: "added latency (ms)", format: fmt.ms, rows: rows(results, sequential.byContestant, (e) => [e.addedP50Ms, e.addedP99Ms], 2, ["direct"]) }],
      }),
    });
  }
  if (saturation) {
    charts.push({
      scenario: "saturation",
      file: "throughput.svg",
      alt: "Peak throughput in requests per second per contestant",
      spec: barChart({
        title: "Peak throughput",
        subtitle: `Requests per second at the best connection count; higher is better; ${OURS_NOTE}.`,
        series: ["peak"],
        panels: [{ axis: "requests per second", format: fmt.rps, rows: rows(results, saturation.byContestant, (e) => [e.peak.rps], 1) }],
      }),
    });
    const series = results.contestants.flatMap((c) => {
      const steps = saturation.byContestant[c.id]?.steps ?? [];
      return steps.length ? [{ label: c.label, highlight: c.id === "mcpgw", points: steps.map((s) => ({ x: s.connections, y: s.rps })) }] : [];
    });
    if (series.length) {
      charts.push({
        scenario: "saturation",
        file: "throughput-vs-connections.svg",
        alt: "Throughput against concurrent connections, one line per contestant",
        spec: lineChart({
          title: "Throughput as connections rise",
          subtitle: `Each contestant's line stops where its throughput stopped rising; ${OURS_NOTE}.`,
          xAxis: "concurrent connections (autocannon)",
          yAxis: "requests per second",
          series,
        }),
      });
    }
  }
  if (streaming) {
    charts.push({
      scenario: "streaming",
      file: "streaming.svg",
      alt: "Streaming: time to first and to last chunk, p50, per contestant",
      spec: barChart({
        title: "Streaming: time to first and last chunk (p50)",
        subtitle: `${streaming.chunks} SSE chunks paced ${streaming.intervalMs} ms apart; lower is better; ${OURS_NOTE}.`,
        series: ["p50"],
        panels: [
          { title: "First chunk", axis: "ms from request to first chunk", format: fmt.ms, rows: rows(results, streaming.byContestant, (e) => [e.firstChunkP50Ms], 1) },
          { title: "Last chunk", axis: "ms from request to last chunk", format: fmt.ms, rows: rows(results, streaming.byContestant, (e) => [e.lastChunkP50Ms], 1) },
        ],
      }),
    });
  }
  if (memory) {
    const loaded = `${fmt.count(memory.openStreams)} open streams`;
    charts.push({
      scenario: "memory",
      file: "memory.svg",
      alt: `Resident memory idle and with ${loaded}, per contestant`,
      spec: barChart({
        title: "Resident memory (RSS of the process tree)",
        subtitle: `Idle, then holding ${loaded}; lower is better; ${OURS_NOTE}.`,
        series: ["idle", loaded],
        panels: [{ axis: "RSS (MB)", format: fmt.mb, rows: rows(results, memory.byContestant, (e) => [e.idleRssMb, e.loadedRssMb], 2, ["direct"]) }],
      }),
    });
  }
  if (mcp) {
    const { coldStart: cold, toolCall: call } = mcp;
    charts.push({
      scenario: "mcp",
      file: "mcp.svg",
      alt: "MCP: cold start against server-everything, and chat_completion tool call against a direct SDK call",
      spec: barChart({
        title: "MCP server: cold start and tool call",
        subtitle: `Lower is better; ${OURS_NOTE}.`,
        series: ["p50", "p99"],
        panels: [
          {
            title: `Cold start: spawn to initialize result (${cold.runs} runs)`,
            axis: "ms",
            format: fmt.ms,
            rows: [
              { label: "openai-gateway-mcp", highlight: true, values: [cold.ours.p50Ms, cold.ours.p99Ms] },
              { label: "server-everything", highlight: false, values: [cold.serverEverything.p50Ms, cold.serverEverything.p99Ms] },
            ],
          },
          {
            title: `chat_completion call (${call.calls} calls)`,
            axis: "ms",
            format: fmt.ms,
            rows: [
              { label: "via openai-gateway-mcp", highlight: true, values: [call.mcp.p50Ms, call.mcp.p99Ms] },
              { label: "openai SDK, direct", highlight: false, values: [call.direct.p50Ms, call.direct.p99Ms] },
            ],
          },
        ],
      }),
    });
  }
  return charts;
}

/** The functions with the most self time, from what `npm run bench:profile` measured. */
export function selfTimeChart(s: ProfileSummary): Promise<string> {
  const spec = barChart({
    title: "Where the gateway spends its CPU: self time",
    subtitle: `${fmt.count(s.connections)} connections for ${fmt.count(s.seconds)} s, ${s.stream ? "streaming" : "non-streaming"}, ${fmt.rps(s.rps)} req/s; share of all samples; ${OURS_NOTE}.`,
    series: ["self time"],
    labelWidth: 420,
    panels: [
      {
        axis: "share of all samples spent in the function itself (%)",
        format: (p) => `${p.toFixed(1)} %`,
        rows: s.topSelf.map((x) => ({ label: x.name, highlight: x.name.includes("openai-gateway/"), values: [x.percent] })),
      },
    ],
  });
  return renderSvg(spec);
}

/** One row per contestant of the run (in its order), with a note where there is nothing to draw. */
function rows<T>(results: BenchResults, by: Partial<Record<ContestantId, T>>, pick: (entry: T) => number[], n: number, skip: ContestantId[] = []): BarRow[] {
  return results.contestants
    .filter((c) => !skip.includes(c.id))
    .map((c) => {
      const entry = by[c.id];
      return {
        label: c.label,
        highlight: c.id === "mcpgw",
        values: entry === undefined ? Array.from({ length: n }, () => undefined) : pick(entry),
        note: c.available ? "not measured" : `unavailable: ${c.note ?? "no reason given"}`,
      };
    });
}
