/**
 * One session with one MCP server: the SDK's Client over a stdio, Streamable HTTP or SSE
 * transport, from spawn (or first request) to close. A Streamable HTTP URL that answers initialize
 * with 400, 404 or 405 is an SSE server (the old transport's endpoint takes no POST): the session
 * falls back to SSE on the same URL. The supervisor (server-connection.ts) opens a new session for
 * every reconnect; a session is never reused.
 */
import { createRequire } from "node:module";
import type { Readable } from "node:stream";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Sdk } from "./load-sdk.ts";
import { responsesAfterNotifications } from "./message-order.ts";
import { endProcesses, processTree, type ProcessRef } from "./process-tree.ts";
import { stdioEnv } from "./stdio-env.ts";
import { logStderrLines, type StderrLines } from "./stderr-lines.ts";
import type { McpServerConfig, RegistryLog, ServerLog, ServerStatus } from "./types.ts";

export type TransportKind = ServerStatus["transport"];

const { version } = createRequire(import.meta.url)("../../../package.json") as { version: string };
const CLIENT_INFO = { name: "openai-gateway", version };
const NOT_STREAMABLE = new Set([400, 404, 405]);
const LATE_PROGRESS = /^Received a progress notification for an unknown token/;

export interface SessionHooks {
  log: RegistryLog;
  scrub(text: string): string;
  /** PATH, HOME, LANG, TMPDIR as the gateway had them at start. */
  inheritedEnv: Record<string, string>;
  /** A transport or protocol error that did not end the session (a line of garbage on stdout). */
  onError(error: Error): void;
  onToolsListChanged(): void;
  /** A notifications/message the server sent (its log), as it sent it. */
  onLog(params: ServerLog): void;
}

export interface Session {
  readonly client: Client;
  /** What is in use: "sse" after a fallback. */
  readonly kind: TransportKind;
  /** Spawn (or first request) and initialize, bounded by timeoutMs; falls back to SSE when the URL is one. */
  connect(timeoutMs: number): Promise<void>;
  /** Resolves, once, with the reason the session ended on its own (process exit, connection closed, SSE stream lost, end()). */
  readonly ended: Promise<string>;
  end(reason: string): void;
  /** Notes the process tree (the server's helpers included), so that what it leaves behind when it crashes is still found. */
  rememberTree(): Promise<void>;
  /** The last line the server wrote to stderr (stdio), scrubbed. */
  lastStderrLine(): string | undefined;
  /** Ends the session: its process tree gets SIGTERM, then SIGKILL after graceMs; an HTTP session is terminated. */
  close(graceMs: number): Promise<void>;
}

export function createSession(config: McpServerConfig, sdk: Sdk, hooks: SessionHooks, preferred: TransportKind): Session {
  let resolveEnded!: (reason: string) => void;
  const ended = new Promise<string>((resolve) => (resolveEnded = resolve));
  // Set once initialize succeeded and until close(): before, a closed connection is connect()'s failure to report.
  let live = false;
  let closing: Promise<void> | undefined;
  let remembered: ProcessRef[] = [];
  let stderr: StderrLines | undefined;
  let kind = preferred;
  let current = open(kind);

  function open(k: TransportKind): { client: Client; transport: Transport } {
    const client = new sdk.Client(CLIENT_INFO, { capabilities: {} });
    const transport = createTransport(k);
    client.setNotificationHandler(sdk.ToolListChangedNotificationSchema, () => hooks.onToolsListChanged());
    client.setNotificationHandler(sdk.LoggingMessageNotificationSchema, (n) => hooks.onLog(n.params));
    client.onclose = () => {
      if (live && client === current.client) resolveEnded("the connection closed");
    };
    client.onerror = (error) => {
      // An SSE stream that failed after the handshake: EventSource would reconnect into a new,
      // uninitialized server session, so the session is over.
      if (live && error instanceof sdk.SseError) return resolveEnded(`the SSE stream failed: ${error.message}`);
      // Before the handshake an HTTP error or a failed spawn is connect()'s own failure, reported once by it.
      if (!live && (error instanceof sdk.SseError || error instanceof sdk.StreamableHTTPError || "syscall" in error)) return;
      // The SDK's own race, not the server's fault (typescript-sdk #2580): a progress notification
      // that arrives in the same read as the response is handled after it, for a token already gone.
      if (LATE_PROGRESS.test(error.message)) return;
      hooks.onError(error);
    };
    return { client, transport };
  }

  function createTransport(k: TransportKind): Transport {
    const t = config.transport;
    if (t.type === "stdio") {
      const transport = new sdk.StdioClientTransport({
        command: t.command,
        args: t.args,
        env: stdioEnv(hooks.inheritedEnv, t.env, sdk.DEFAULT_INHERITED_ENV_VARS),
        cwd: t.cwd,
        stderr: "pipe",
      });
      stderr = logStderrLines(transport.stderr as Readable, config.name, hooks.log, hooks.scrub);
      return transport;
    }
    const options = { requestInit: { headers: t.headers } };
    const url = new URL(t.url);
    return k === "sse" ? new sdk.SSEClientTransport(url, options) : new sdk.StreamableHTTPClientTransport(url, options);
  }

  async function handshake(timeoutMs: number): Promise<void> {
    try {
      await current.client.connect(current.transport, { timeout: timeoutMs });
    } catch (err) {
      const notStreamable = err instanceof sdk.StreamableHTTPError && NOT_STREAMABLE.has(err.code ?? 0);
      if (kind !== "streamable-http" || !notStreamable || closing) throw err;
      kind = "sse";
      current = open(kind);
      await current.client.connect(current.transport, { timeout: timeoutMs });
    }
    responsesAfterNotifications(current.transport);
  }

  return {
    get client() {
      return current.client;
    },
    get kind() {
      return kind;
    },
    ended,
    end: (reason) => resolveEnded(reason),
    lastStderrLine: () => stderr?.lastLine(),

    async connect(timeoutMs) {
      // The SDK bounds the initialize request, not the transport's start (an SSE server that accepts
      // the connection and never sends its endpoint): this bounds both.
      let timer: NodeJS.Timeout | undefined;
      const attempt = handshake(timeoutMs);
      attempt.catch(() => {});
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to initialize within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([attempt, timedOut]);
      } finally {
        clearTimeout(timer);
      }
      if (closing) throw new Error("closed while connecting");
      live = true;
    },

    async rememberTree() {
      const pid = stdioPid();
      // Only refs with a start time: without one a pid cannot be told from its next owner.
      if (pid) remembered = (await processTree(pid)).filter((r) => r.start !== undefined);
    },

    close(graceMs) {
      closing ??= (async () => {
        live = false;
        const { client, transport } = current;
        const pid = stdioPid();
        if (pid !== undefined || remembered.length > 0) {
          const tree = pid !== undefined ? await processTree(pid) : [];
          const known = new Set(tree.map((r) => r.pid));
          await endProcesses([...tree, ...remembered.filter((r) => !known.has(r.pid))], graceMs);
        } else if (transport instanceof sdk.StreamableHTTPClientTransport && transport.sessionId) {
          // Lets the server free the session now rather than when it times it out.
          await bounded(transport.terminateSession(), graceMs);
        }
        await bounded(client.close(), graceMs + 1000);
        resolveEnded("closed");
      })();
      return closing;
    },
  };

  function stdioPid(): number | undefined {
    const t = current.transport;
    return t instanceof sdk.StdioClientTransport ? (t.pid ?? undefined) : undefined;
  }
}

/** Waits for p at most ms; its failure is of no interest here (the session is going anyway). */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
