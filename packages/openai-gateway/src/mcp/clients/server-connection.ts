/**
 * One configured MCP server, supervised: it is connected (a session opened, its tools listed), kept
 * (pings every pingIntervalMs; maxMissedPings unanswered in a row end the session; tools listed
 * again on notifications/tools/list_changed), and when the session ends (the process exited, the
 * connection dropped, the handshake failed) opened again after a backoff of 1 s doubling to 30 s,
 * reset once the server had been ready for stableAfterMs. Nothing here ever waits for another
 * server.
 */
import type { Client as McpClient } from "@modelcontextprotocol/sdk/client/index.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import type { Scrubber } from "@mcpgw/openai-protocol";
import { clip } from "../../client-text.ts";
import { createLineBudget } from "./line-budget.ts";
import { loadSdk, type Sdk } from "./load-sdk.ts";
import { createSession, type Session, type TransportKind } from "./server-session.ts";
import { reconnectDelay, type SupervisionTiming } from "./supervision-timing.ts";
import { callTool } from "./tool-call.ts";
import { ToolCallFailure, type McpServerConfig, type RegistryLog, type RegistryMetrics, type ServerLog, type ServerState, type ServerStatus, type ToolCallOptions, type ToolCallResult } from "./types.ts";

/** Pages of tools/list followed at most: a server that always answers with a nextCursor must not loop forever. */
const MAX_TOOL_PAGES = 100;
const MAX_ERROR_TEXT = 500;
const PROTOCOL_ERRORS_PER_SECOND = 10;

export interface ConnectionContext {
  log: RegistryLog;
  metrics: RegistryMetrics;
  timing: SupervisionTiming;
  inheritedEnv: Record<string, string>;
  scrub: Scrubber;
  /** The server's tools changed, or it became ready or stopped being ready. */
  onChange(): void;
  /** The server sent a log message. */
  onLog(log: ServerLog): void;
}

export interface ServerConnection {
  readonly config: McpServerConfig;
  start(): void;
  status(): ServerStatus;
  ready(): boolean;
  /** The tools the server listed last, without its disabledTools; kept while it reconnects, so that a call finds "server_unavailable", not "unknown_tool". */
  tools(): readonly Tool[];
  call(tool: string, args: Record<string, unknown>, opts: ToolCallOptions): Promise<ToolCallResult>;
  /** The connected SDK client while the server is ready (for its prompts and resources), else undefined. */
  client(): McpClient | undefined;
  close(graceMs: number): Promise<void>;
}

/** `knownTools`: what the server listed before a reload restarted it, kept until it lists again (as across a reconnect). */
export function createServerConnection(config: McpServerConfig, ctx: ConnectionContext, knownTools: readonly Tool[] = []): ServerConnection {
  const { log, timing } = ctx;
  const name = config.name;
  const scrub = (text: string) => clip(ctx.scrub.text(text), MAX_ERROR_TEXT);
  const disabled = new Set(config.disabledTools);
  let state: ServerState = "connecting";
  let kind: TransportKind = config.transport.type;
  let lastError: string | undefined;
  let restarts = 0;
  let tools: readonly Tool[] = knownTools.filter((t) => !disabled.has(t.name));
  let session: Session | undefined;
  let sdk: Sdk | undefined;
  let closed = false;
  let running: Promise<void> | undefined;
  let changedWhileConnecting = false;
  const stop = new AbortController();
  const protocolErrors = createLineBudget(PROTOCOL_ERRORS_PER_SECOND, (count) =>
    log.warn({ mcpServer: name, suppressed: count }, `MCP server protocol errors: suppressed ${count}`),
  );

  async function supervise(): Promise<void> {
    let failures = 0;
    for (let attempt = 0; !closed; attempt++) {
      if (attempt > 0) restarts++;
      state = "connecting";
      changedWhileConnecting = false;
      let readyAt: number | undefined;
      let s: Session | undefined;
      try {
        sdk ??= await loadSdk();
        if (closed) break;
        s = session = createSession(config, sdk, hooksFor(() => s), kind);
        await s.connect(timing.connectTimeoutMs);
        kind = s.kind;
        tools = await listTools(s);
        readyAt = performance.now();
        state = "ready";
        ctx.metrics.serverUp(name, true);
        log.info({ mcpServer: name, transport: kind, tools: tools.length }, "MCP server ready");
        ctx.onChange();
        if (changedWhileConnecting) onListChanged(s);
        void s.rememberTree().catch(() => {});
        const reason = await watch(s);
        if (!closed) lastError = scrub(reason);
      } catch (err) {
        const stderr = s?.lastStderrLine();
        if (!closed) lastError = scrub(`${err instanceof Error ? err.message : String(err)}${stderr ? ` (its last stderr line: ${stderr})` : ""}`);
      }
      const wasReady = state === "ready";
      state = closed ? "stopped" : "failed";
      if (session === s) session = undefined;
      await s?.close(timing.restartGraceMs);
      if (wasReady) {
        ctx.metrics.serverUp(name, false);
        ctx.onChange();
      }
      if (closed) break;
      if (readyAt !== undefined && performance.now() - readyAt >= timing.stableAfterMs) failures = 0;
      const delay = reconnectDelay(failures++, timing);
      log.warn({ mcpServer: name, error: lastError, retryInMs: delay, restarts }, "MCP server unavailable; reconnecting");
      await sleep(delay, stop.signal);
    }
    state = "stopped";
  }

  /** Pings the session until it ends; resolves with why it ended. */
  async function watch(s: Session): Promise<string> {
    let missed = 0;
    let over = false;
    let timer: NodeJS.Timeout | undefined;
    // Unref'd: the gateway's listening socket keeps the process alive, not its health checks.
    const schedule = () => (timer = setTimeout(tick, timing.pingIntervalMs).unref());
    const tick = async () => {
      missed = (await answersPing(s)) ? 0 : missed + 1;
      // The tree again: a helper the server started since (a browser) is ended with it, even after a crash.
      if (missed === 0) await s.rememberTree().catch(() => {});
      if (over) return;
      if (missed >= timing.maxMissedPings) s.end(`${missed} pings in a row went unanswered`);
      else schedule();
    };
    schedule();
    try {
      return await s.ended;
    } finally {
      over = true;
      clearTimeout(timer);
    }
  }

  async function answersPing(s: Session): Promise<boolean> {
    try {
      await s.client.ping({ timeout: timing.pingTimeoutMs });
      return true;
    } catch (err) {
      // A JSON-RPC error is an answer: the server is there, it just does not implement ping.
      return err instanceof sdk!.McpError && err.code !== sdk!.ErrorCode.RequestTimeout && err.code !== sdk!.ErrorCode.ConnectionClosed;
    }
  }

  /** tools/list, every page, without the disabled tools. */
  async function listTools(s: Session): Promise<Tool[]> {
    if (!s.client.getServerCapabilities()?.tools) return [];
    const listed: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_TOOL_PAGES; page++) {
      const result = await s.client.listTools(cursor === undefined ? {} : { cursor }, { timeout: timing.listToolsTimeoutMs });
      listed.push(...result.tools);
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    if (cursor) log.warn({ mcpServer: name, pages: MAX_TOOL_PAGES }, "MCP server tools/list: stopped following nextCursor");
    // A tool that runs only as an MCP task (tools/call with `task`, then tasks/get and tasks/result)
    // refuses a plain call: offered, it would fail every time. Say so once per listing.
    const taskOnly = listed.filter((t) => t.execution?.taskSupport === "required").map((t) => t.name);
    if (taskOnly.length > 0) log.info({ mcpServer: name, tools: taskOnly }, "MCP server tools that run only as tasks are not offered (the gateway does not run MCP tasks)");
    return listed.filter((t) => !disabled.has(t.name) && t.execution?.taskSupport !== "required");
  }

  // list_changed may come in bursts: one refresh at a time, and one more if any came meanwhile.
  let refreshing: Promise<void> | undefined;
  let again = false;
  function onListChanged(s: Session): void {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = (async () => {
      do {
        again = false;
        try {
          const listed = await listTools(s);
          if (session === s && state === "ready") {
            tools = listed;
            ctx.onChange();
          }
        } catch (err) {
          log.warn({ mcpServer: name, error: scrub(String(err)) }, "MCP server tools/list failed after list_changed");
        }
      } while (again && session === s);
      refreshing = undefined;
    })();
  }

  function hooksFor(current: () => Session | undefined) {
    return {
      log,
      scrub,
      inheritedEnv: ctx.inheritedEnv,
      onToolsListChanged: () => {
        const s = current();
        if (!s || session !== s) return;
        // During the handshake's own tools/list the change may postdate what it read: list again once ready.
        if (state === "ready") onListChanged(s);
        else changedWhileConnecting = true;
      },
      onLog: (log: ServerLog) => {
        if (session === current()) ctx.onLog(log);
      },
      // Garbage on a stdio server's stdout lands here, once per bad line: logged, within a budget.
      onError: (error: Error) => {
        if (protocolErrors.take()) log.warn({ mcpServer: name, error: scrub(error.message) }, "MCP server protocol error");
      },
    };
  }

  return {
    config,
    start() {
      if (running || closed) return;
      ctx.metrics.serverUp(name, false);
      running = supervise().catch((err) => log.error({ mcpServer: name, err }, "MCP server supervision failed"));
    },
    status: () => ({ name, state, transport: kind, required: config.required, tools: tools.length, lastError, restarts }),
    ready: () => state === "ready",
    tools: () => tools,
    client: () => (state === "ready" ? session?.client : undefined),
    async call(tool, args, opts) {
      const s = session;
      if (state !== "ready" || !s || !sdk) {
        throw new ToolCallFailure("server_unavailable", `the MCP server ${name} is not ready (${state}${lastError ? `: ${lastError}` : ""})`, name);
      }
      try {
        return await callTool(sdk, s.client, { server: name, tool, timeoutMs: config.toolTimeoutMs, scrub }, args, opts);
      } catch (err) {
        // A request that could not be sent (an HTTP server gone) says more than the next ping would.
        if (err instanceof ToolCallFailure && err.kind === "server_unavailable" && session === s) {
          void answersPing(s).then((ok) => ok || s.end(`unreachable: ${err.message}`));
        }
        throw err;
      }
    },
    async close(graceMs) {
      closed = true;
      stop.abort();
      await session?.close(graceMs);
      await running;
      state = "stopped";
    },
  };
}

/** Resolves after ms, or at once when signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
