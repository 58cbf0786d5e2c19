/**
 * The registry of the gateway's MCP servers: one supervised connection per configured server
 * (server-connection.ts), the catalog of their tools under public names (tool-names.ts), and the
 * call path the tool loop uses, which writes one log line and one metric per call. The MCP SDK is
 * loaded when the first server connects, not when this module is imported. A config reload
 * (update) swaps servers in and out by name; the others keep their connection.
 *
 * @example
 * const registry = createMcpRegistry({ servers, log, metrics });
 * registry.start();
 * const result = await registry.call("everything__echo", { message: "hi" }, { signal });
 */
import { Buffer } from "node:buffer";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { clip } from "../../client-text.ts";
import { matchesSelector } from "../selectors.ts";
import { publicToolNames } from "../tool-names.ts";
import { createServerConnection, type ServerConnection } from "./server-connection.ts";
import { errorScrubber } from "./error-scrubber.ts";
import { serverChanges, type ServerChanges } from "./server-changes.ts";
import { inheritedEnv } from "./stdio-env.ts";
import { DEFAULT_TIMING, type SupervisionTiming } from "./supervision-timing.ts";
import {
  ToolCallFailure,
  type CatalogTool,
  type McpRegistry,
  type McpServerConfig,
  type RegistryDeps,
  type ServerLog,
  type ToolCallOptions,
  type ToolCallOutcome,
  type ToolCallResult,
} from "./types.ts";

/** `timing` is for tests (shorter backoff and pings); the gateway uses the defaults. */
export function createMcpRegistry(deps: RegistryDeps, timing: Partial<SupervisionTiming> = {}): McpRegistry {
  const { log, metrics } = deps;
  const listeners = new Set<() => void>();
  const logListeners = new Set<(server: string, log: ServerLog) => void>();
  // Read once, here, at start: nothing reads process.env later.
  const inherited = inheritedEnv(process.env);
  const supervision = { ...DEFAULT_TIMING, ...timing };
  let connections = new Map<string, ServerConnection>();
  // Connections a reload took out, while they close: close() waits for them too.
  const leaving = new Set<Promise<void>>();
  let started = false;
  let closed = false;
  let updates: Promise<unknown> = Promise.resolve();
  let catalog = new Map<string, CatalogTool>();
  let ordered: CatalogTool[] = [];
  for (const config of deps.servers) connections.set(config.name, connect(config));

  function connect(config: McpServerConfig, knownTools: readonly Tool[] = []): ServerConnection {
    const onLog = (entry: ServerLog) => {
      for (const l of logListeners) l(config.name, entry);
    };
    return createServerConnection(config, { log, metrics, timing: supervision, inheritedEnv: inherited, scrub: errorScrubber(config), onChange: rebuild, onLog }, knownTools);
  }

  function retire(connection: ServerConnection, graceMs: number): Promise<void> {
    const closing = connection.close(graceMs).finally(() => leaving.delete(closing));
    leaving.add(closing);
    return closing;
  }

  async function update(servers: McpServerConfig[], graceMs: number): Promise<ServerChanges> {
    if (closed) return { added: [], removed: [], restarted: [] };
    const changes = serverChanges([...connections.values()].map((c) => c.config), servers);
    const old = [...changes.removed, ...changes.restarted].map((name) => connections.get(name)!);
    // A restarted server keeps its tool names while it reconnects: a call finds server_unavailable, not unknown_tool.
    const configs = new Map(servers.map((s) => [s.name, s]));
    const fresh = new Map([...changes.added, ...changes.restarted].map((name) => [name, connect(configs.get(name)!, connections.get(name)?.tools())]));
    // In the config's order, as at start (statuses() shows them so).
    connections = new Map([...configs.keys()].map((name) => [name, fresh.get(name) ?? connections.get(name)!]));
    rebuild();
    if (started) for (const name of changes.added) fresh.get(name)!.start();
    // Calls in flight on these fail with server_unavailable as their session closes.
    await Promise.all(old.map((c) => retire(c, graceMs)));
    // A restarted server starts once its old process is gone: it may hold a port or a lock the new one needs.
    if (started) for (const name of changes.restarted) fresh.get(name)!.start();
    return changes;
  }

  /** Names over every tool known, ready or not: a server going down does not rename another's tools. */
  function rebuild(): void {
    const byRef = new Map<string, { server: string; tool: Tool }>();
    for (const [server, c] of connections) for (const tool of c.tools()) byRef.set(`${server}\0${tool.name}`, { server, tool });
    const names = publicToolNames([...byRef.values()].map(({ server, tool }) => ({ server, tool: tool.name })));
    catalog = new Map();
    for (const [name, ref] of names) catalog.set(name, catalogTool(name, ref.server, byRef.get(`${ref.server}\0${ref.tool}`)!.tool));
    ordered = [...catalog.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const listener of listeners) {
      try {
        listener();
      } catch (err) {
        log.error({ err }, "an MCP tools-changed listener failed");
      }
    }
  }

  async function call(name: string, args: Record<string, unknown>, opts: ToolCallOptions): Promise<ToolCallResult> {
    const entry = catalog.get(name);
    const connection = entry && connections.get(entry.server);
    if (!entry || !connection) {
      // The name came from a model: clipped in the log, and no metric series per made-up name.
      log.info({ tool: clip(name, 100), ms: 0, outcome: "unknown_tool" }, "MCP tool call");
      metrics.toolCall("", "", "unknown_tool", 0);
      throw new ToolCallFailure("unknown_tool", `no MCP tool is called ${clip(name, 100)}`);
    }
    log.debug({ mcpServer: entry.server, tool: entry.tool, argsBytes: Buffer.byteLength(JSON.stringify(args) ?? "") }, "MCP tool call arguments");
    const start = performance.now();
    let outcome: ToolCallOutcome = "ok";
    try {
      const result = await connection.call(entry.tool, args, opts);
      if (result.isError) outcome = "tool_error";
      return result;
    } catch (err) {
      outcome = err instanceof ToolCallFailure ? err.kind : "protocol_error";
      throw err instanceof ToolCallFailure ? err : new ToolCallFailure("protocol_error", String(err), entry.server);
    } finally {
      const seconds = (performance.now() - start) / 1000;
      log.info({ mcpServer: entry.server, tool: entry.tool, ms: Math.round(seconds * 1000), outcome }, "MCP tool call");
      metrics.toolCall(entry.server, entry.tool, outcome, seconds);
    }
  }

  return {
    start() {
      started = true;
      for (const c of connections.values()) c.start();
    },
    statuses: () => [...connections.values()].map((c) => c.status()),
    client: (server) => connections.get(server)?.client(),
    onServerLog(listener) {
      logListeners.add(listener);
      return () => logListeners.delete(listener);
    },
    requiredReady: () => [...connections.values()].every((c) => !c.config.required || c.ready()),
    tools: (selectors) =>
      ordered.filter((t) => connections.get(t.server)?.ready() && selectors.some((s) => matchesSelector(s, t.server, t.tool))),
    find: (name) => catalog.get(name),
    call,
    onToolsChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    update(servers, graceMs) {
      // One reload at a time: the next one diffs against what the last one left.
      const run = updates.then(() => update(servers, graceMs));
      updates = run.catch(() => {});
      return run;
    },
    async close(graceMs) {
      closed = true;
      await Promise.all([...[...connections.values()].map((c) => c.close(graceMs)), ...leaving]);
    },
  };
}

function catalogTool(name: string, server: string, tool: Tool): CatalogTool {
  return {
    name,
    server,
    tool: tool.name,
    title: tool.title ?? tool.annotations?.title,
    description: tool.description,
    inputSchema: tool.inputSchema,
    outputSchema: tool.outputSchema,
    annotations: tool.annotations,
  };
}
