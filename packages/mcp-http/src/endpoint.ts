/**
 * One MCP endpoint over Streamable HTTP (POST, GET and DELETE on one path), with what the SDK's
 * Streamable HTTP transport leaves to the application (its web-standard one, bridged to Node by
 * node-bridge.ts):
 *
 * - Host and Origin checked first (request-guard.ts), then the caller's key (`authenticate`): a 401
 *   carries `WWW-Authenticate: Bearer realm=...` and no OAuth metadata is served, so a client with a
 *   configured header never starts an OAuth flow.
 * - Sessions: an initialize without a session id opens one (a transport and a server of its own);
 *   a session answers only the key that opened it (to any other it does not exist: 404, as an ended
 *   one); an idle session (no request or stream open for `idleMs`) ends, and at `maxSessions` the
 *   longest idle one makes room, so abandoned sessions never pile up. DELETE ends one.
 * - SSE events kept per session (event-store.ts), so a broken stream resumes with Last-Event-ID.
 * - close(): every session ends, which ends its open streams and cancels its calls in flight.
 *
 * Errors before a transport answers are JSON-RPC error bodies, as the SDK's own are.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { isInitializeRequest, type InitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { BoundedEventStore } from "./event-store.ts";
import { handleNodeRequest } from "./node-bridge.ts";
import { refusal, type GuardPolicy } from "./request-guard.ts";

/** Who is calling, once authenticated: sessions are bound to `id`. */
export interface Caller {
  id: string;
}

/** The server a new session gets. Anything with connect/close, as McpServer and Server have. */
export interface SessionServer {
  connect(transport: WebStandardStreamableHTTPServerTransport): Promise<void>;
  close(): Promise<void>;
  readonly server?: Server;
}

export interface EndpointOptions<C extends Caller> extends GuardPolicy {
  /** The realm named in WWW-Authenticate. */
  realm: string;
  /** The caller of a request, or undefined for a missing or wrong key (401). */
  authenticate(req: IncomingMessage): C | undefined;
  /** A new session's server, for this caller; `init` is the client's initialize (its capabilities, its name). */
  createServer(caller: C, sessionId: string, init: InitializeRequest["params"]): SessionServer | Promise<SessionServer>;
  /** A session with nothing open for this long ends. */
  idleMs: number;
  maxSessions: number;
  /** SSE keep-alive comments, so proxies do not cut a quiet stream. */
  keepAliveMs?: number;
  /** Events kept per session for resumption. */
  eventsPerSession?: number;
  /** The largest POST body read here (default 4 MiB, the SDK's own bound). */
  maxBodyBytes?: number;
  log?: (level: "info" | "warn", message: string, data?: Record<string, unknown>) => void;
}

interface Session<C extends Caller> {
  id: string;
  caller: C;
  transport: WebStandardStreamableHTTPServerTransport;
  server: SessionServer;
  /** Requests and streams of this session still open. */
  open: number;
  lastSeen: number;
}

export class McpHttpEndpoint<C extends Caller> {
  readonly #opts: EndpointOptions<C>;
  readonly #sessions = new Map<string, Session<C>>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(opts: EndpointOptions<C>) {
    this.#opts = opts;
    // Checked a few times per idle period; unref'd: a sweeper never keeps the process up.
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(250, Math.min(opts.idleMs / 4, 60_000))).unref();
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Handles one request; `parsedBody` when a framework has read the JSON already. */
  async handle(req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): Promise<void> {
    const refused = refusal(req, this.#opts);
    if (refused) return rpcError(res, 403, -32000, refused);
    if (this.#closed) return rpcError(res, 503, -32000, "The server is shutting down.");
    const caller = this.#opts.authenticate(req);
    if (!caller) {
      res.setHeader("www-authenticate", `Bearer realm="${this.#opts.realm}"`);
      return rpcError(res, 401, -32001, "Unauthorized: send a valid key as Authorization: Bearer KEY.");
    }
    const method = req.method ?? "GET";
    if (method !== "POST" && method !== "GET" && method !== "DELETE") {
      res.setHeader("allow", "GET, POST, DELETE");
      return rpcError(res, 405, -32000, `Method not allowed: ${method.slice(0, 10)}.`);
    }
    if (method === "POST" && parsedBody === undefined) {
      const read = await readJson(req, this.#opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
      if ("error" in read) return rpcError(res, read.status, read.code, read.error);
      parsedBody = read.value;
    }
    const header = req.headers["mcp-session-id"];
    const sessionId = Array.isArray(header) ? header[0] : header;
    let session: Session<C> | undefined;
    if (sessionId !== undefined) {
      session = this.#sessions.get(sessionId);
      // Another key's session is one that does not exist.
      if (!session || session.caller.id !== caller.id) return rpcError(res, 404, -32001, "Session not found: it ended or never existed; initialize a new one.");
    } else if (method === "POST" && initializeOf(parsedBody)) {
      session = await this.#open(caller, initializeOf(parsedBody)!);
    } else {
      return rpcError(res, 400, -32000, "Bad Request: no valid session ID (Mcp-Session-Id) was given; start with an initialize request.");
    }
    session.open++;
    session.lastSeen = Date.now();
    res.once("close", () => {
      session.open--;
      session.lastSeen = Date.now();
    });
    await handleNodeRequest(session.transport, req, res, parsedBody);
  }

  /** Ends every session (their streams close, their calls in flight are cancelled). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((s) => this.#end(s, "shutdown")));
  }

  async #open(caller: C, init: InitializeRequest["params"]): Promise<Session<C>> {
    if (this.#sessions.size >= this.#opts.maxSessions) {
      // Room for the new one: the session idle longest goes (one with a stream open only if all have).
      const victim = [...this.#sessions.values()].sort((a, b) => Number(a.open > 0) - Number(b.open > 0) || a.lastSeen - b.lastSeen)[0];
      if (victim) await this.#end(victim, "maxSessions");
    }
    const id = randomUUID();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => id,
      eventStore: new BoundedEventStore(this.#opts.eventsPerSession),
      ...(this.#opts.keepAliveMs !== undefined ? { keepAliveMs: this.#opts.keepAliveMs } : {}),
    });
    const server = await this.#opts.createServer(caller, id, init);
    const session: Session<C> = { id, caller, transport, server, open: 0, lastSeen: Date.now() };
    this.#sessions.set(id, session);
    // DELETE, or the transport closing for any reason: the session is over.
    transport.onclose = () => {
      if (this.#sessions.get(id) === session) this.#sessions.delete(id);
    };
    await server.connect(transport);
    return session;
  }

  async #end(session: Session<C>, why: string): Promise<void> {
    if (this.#sessions.get(session.id) !== session) return;
    this.#sessions.delete(session.id);
    if (why !== "shutdown") this.#opts.log?.("info", "MCP session ended", { session: session.id, why });
    // Closing the server closes its transport: open streams end, handlers in flight are aborted.
    await session.server.close().catch(() => {});
    await session.transport.close().catch(() => {});
  }

  #sweep(): void {
    const now = Date.now();
    for (const s of this.#sessions.values()) {
      if (s.open === 0 && now - s.lastSeen > this.#opts.idleMs) void this.#end(s, "idle");
    }
  }
}

const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

type Read = { value: unknown } | { status: number; code: number; error: string };

/** A POST body as JSON, read here so that an initialize can be told from other requests. */
async function readJson(req: IncomingMessage, limit: number): Promise<Read> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return { status: 413, code: -32000, error: `Payload too large: the body is over ${limit} bytes.` };
    chunks.push(chunk as Buffer);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString("utf8")) };
  } catch {
    return { status: 400, code: -32700, error: "Parse error: the body is not JSON." };
  }
}

/** The params of an initialize request, alone or in a batch. */
function initializeOf(body: unknown): InitializeRequest["params"] | undefined {
  const found = (Array.isArray(body) ? body : [body]).find((m) => isInitializeRequest(m)) as InitializeRequest | undefined;
  return found?.params;
}

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) return void res.end();
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}
