/**
 * The report's sections for the tool paths (the tool loop, MCP over HTTP, REST tool calls, cold
 * start with many MCP servers). They are not in the default run, so a section appears only when
 * its scenario ran. Handed the page's own table and escaping helpers, so its tables read alike.
 */
import { MCP_HTTP_PATHS, type BenchResults } from "../types.ts";
import * as fmt from "./format.ts";

export interface SectionHelpers {
  table(headers: string[], rows: string[][]): string;
  escape(s: string): string;
  code(s: string): string;
}

export function toolPathSections(r: BenchResults, page: SectionHelpers): string[] {
  return [...toolLoop(r, page), ...mcpHttp(r, page), ...restTools(r, page), ...coldStart(r, page)];
}

function toolLoop(r: BenchResults, { table, code }: SectionHelpers): string[] {
  const t = r.toolLoop;
  if (!t) return [];
  const row = (label: string, s: { p50Ms: number; p99Ms: number }) => [label, fmt.ms(s.p50Ms), fmt.ms(s.p99Ms)];
  return [
    "## Tool loop",
    "",
    `A tool-enabled model (${code("tools: [everything/echo]")}) whose upstream asks for one tool call, then answers: in one chat completion the gateway asks the upstream, runs server-everything's ${code("echo")} over its stdio connection, and asks again. ` +
      "*By hand* is the same done by the client: request 1 through the gateway with a model that has no tools (the client offers the tool itself), the tool called with an MCP SDK Client over stdio, request 2 with the result. " +
      `The parts are measured direct, from the harness. ${fmt.count(t.rounds)} rounds of ${fmt.count(t.requestsPerRound)} requests, every side taking turns; the median of the round medians.`,
    "",
    table(
      ["Measure", "p50 (ms)", "p99 (ms)"],
      [
        row("Chat through the **tool-enabled model** (one tool round)", t.tooled),
        row("The same by hand: two requests through the gateway and the MCP call", t.byHand),
        row("Part: the upstream's first answer (the tool call), direct", t.upstreamFirst),
        row("Part: the upstream's second answer, direct", t.upstreamSecond),
        row("Part: the tool call, MCP SDK Client over stdio, direct", t.toolCall),
        row("A plain chat through the gateway (same model, no tools)", t.plain),
      ],
    ),
    "",
    `**The gateway's own time per tool round: ${fmt.ms(t.ownP50Ms)} ms** (the tool-enabled chat's p50 minus the three parts'). ` +
      `It includes the cross-core wake-ups of the gateway's hops, which the direct parts do not pay (see scenario 1), and what any request costs the gateway: ` +
      `over a plain chat through the gateway, the tool round adds ${fmt.ms(t.roundOverPlainP50Ms)} ms (minus the second answer and the tool call). ` +
      `Tool-enabled model vs by hand: ${fmt.times(t.vsByHandP50)} at p50, ${fmt.times(t.vsByHandP99)} at p99.`,
    "",
  ];
}

function mcpHttp(r: BenchResults, { table, escape, code }: SectionHelpers): string[] {
  const m = r.mcpHttp;
  if (!m) return [];
  const s = m.sessions;
  const lines = [
    "## MCP over HTTP",
    "",
    `A ${code("tools/call")} of server-everything's ${code("echo")} by an MCP SDK Client over Streamable HTTP: through our gateway's ${code("/mcp/{server}")} (the server re-served as it is, a connection of its own per session) and ${code("/mcp")} (every server in one, ${code("everything__echo")}), ` +
      `through supergateway and mcp-proxy fronting the same stdio server, and made directly to the server (a stdio Client). Every server process runs on the contestant's core. ` +
      `${fmt.count(m.rounds)} rounds of ${fmt.count(m.callsPerRound)} calls, the paths taking turns; the median of the round medians, and each over direct's. ` +
      "*Bare HTTP client*: the same call on the same session by a plain node:http POST that reads the answer whole, without the SDK client's own parsing and validation: what the server side costs.",
    "",
    table(
      ["Path", "p50 (ms)", "p99 (ms)", "p50 vs direct", "p99 vs direct", "Bare HTTP client p50 (ms)", "Bare p50 vs direct"],
      MCP_HTTP_PATHS.map(({ id, label }) => {
        const e = m.byPath[id];
        const shown = id.startsWith("mcpgw") ? `**${escape(label)}** (ours)` : escape(label);
        return [shown, fmt.ms(e?.p50Ms), fmt.ms(e?.p99Ms), fmt.times(e?.vsDirectP50), fmt.times(e?.vsDirectP99), fmt.ms(e?.raw?.p50Ms), fmt.times(e?.raw?.vsDirectP50)];
      }),
    ),
    "",
    `Idle sessions: ${fmt.count(s.opened)} opened on ${code("/mcp")}, each as the SDK's client opens one (initialize, initialized, then its GET stream held open), and left idle: ` +
      `the gateway's resident memory went from ${fmt.mb(s.idleRssMb)} MB to ${fmt.mb(s.loadedRssMb)} MB, **${fmt.mb(s.perSessionKb)} KB per session**.`,
  ];
  if (s.perServer) {
    lines.push(
      "",
      `A ${code("/mcp/{server}")} session of a stdio server holds a server process of its own (at most 20 per server): ${fmt.count(s.perServer.opened)} such sessions cost the gateway ${fmt.mb(s.perServer.gatewayPerSessionKb)} KB each, ` +
        `and ${fmt.mb(s.perServer.treePerSessionKb / 1024)} MB each with their server processes.`,
    );
  }
  const missing = MCP_HTTP_PATHS.filter(({ id }) => m.unavailable[id] !== undefined);
  if (missing.length) lines.push("", ...missing.map(({ id, label }) => `- ${escape(label)}: not measured (${escape(m.unavailable[id]!)})`));
  return [...lines, ""];
}

function restTools(r: BenchResults, { table, code }: SectionHelpers): string[] {
  const t = r.restTools;
  if (!t) return [];
  return [
    "## REST tool calls",
    "",
    `${code("POST /tools/everything/echo")} (the arguments as the JSON body, the tool's result as the answer; plain node:http with keep-alive) against the same call made directly to server-everything by an MCP SDK Client over stdio. ` +
      `${fmt.count(t.rounds)} rounds of ${fmt.count(t.callsPerRound)} calls, taking turns; the median of the round medians.`,
    "",
    table(
      ["Path", "p50 (ms)", "p99 (ms)"],
      [
        [`**${code("POST /tools/{server}/{tool}")}** (ours)`, fmt.ms(t.rest.p50Ms), fmt.ms(t.rest.p99Ms)],
        ["direct: MCP over stdio", fmt.ms(t.direct.p50Ms), fmt.ms(t.direct.p99Ms)],
        ["REST over direct", fmt.times(t.vsDirectP50), fmt.times(t.vsDirectP99)],
      ],
    ),
    "",
  ];
}

function coldStart(r: BenchResults, { table, code }: SectionHelpers): string[] {
  const c = r.mcpServersColdStart;
  if (!c) return [];
  const samples = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
  return [
    `## Cold start with ${fmt.count(c.servers)} MCP servers`,
    "",
    `Our gateway configured with ${fmt.count(c.servers)} copies of server-everything (stdio) under different names, all ${code("required")}: the time from spawning it to the first 200 from ${code("/ready")} that shows every one ready, ` +
      `beside the same gateway with no MCP servers. ${fmt.count(c.runs)} starts each, taking turns. The gateway and the servers it starts share one core.`,
    "",
    table(
      ["Gateway", "p50 (ms)", "p99 (ms)", "Starts (ms)"],
      [
        [`with ${fmt.count(c.servers)} stdio MCP servers`, fmt.ms(c.withServers.p50Ms), fmt.ms(c.withServers.p99Ms), samples(c.withServers.samplesMs)],
        ["with none", fmt.ms(c.withoutServers.p50Ms), fmt.ms(c.withoutServers.p99Ms), samples(c.withoutServers.samplesMs)],
        ["for scale: one server-everything alone, spawn to its initialize result", fmt.ms(c.oneServer.p50Ms), fmt.ms(c.oneServer.p99Ms), fmt.DASH],
      ],
    ),
    "",
  ];
}
