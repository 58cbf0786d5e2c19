/**
 * `--transport http`: the same server over MCP Streamable HTTP, for remote clients and for running
 * detached in a container. `/mcp` is the endpoint (POST, GET, DELETE; sessions, resumable streams,
 * Host and Origin checks, keys: @mcpgw/mcp-http); `/health` answers a load balancer or a
 * HEALTHCHECK. Each session gets a server of its own, built exactly as the stdio one is.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { isLoopbackAddress, McpHttpEndpoint, type Caller } from "@mcpgw/mcp-http";
import type { Logger } from "./log.ts";
import { createServer } from "./server.ts";
import type { ListenSettings, SettingsResult } from "./settings.ts";

/** A session with no request or stream for this long ends (a client that comes back initializes again). */
const SESSION_IDLE_MS = 30 * 60_000;
/** Sessions at once; beyond it the longest idle one makes room. */
const MAX_SESSIONS = 1000;
/** How long open streams may run on after SIGTERM before their connections are cut. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface HttpHandle {
  /** http://HOST:PORT/mcp */
  url: string;
  close(): Promise<void>;
}

export async function serveHttp(listen: ListenSettings, result: SettingsResult, log: Logger): Promise<HttpHandle> {
  const loopback = isLoopbackAddress(listen.host);
  if (!loopback && listen.apiKeys.length === 0) {
    throw new Error(`refusing to listen on ${listen.host} without keys: anyone who reaches it could use the gateway key. Set MCP_API_KEYS (comma-separated), or listen on 127.0.0.1`);
  }
  const endpoint = new McpHttpEndpoint<Caller>({
    realm: "openai-gateway-mcp",
    loopback,
    allowedOrigins: [],
    authenticate: keyCheck(listen.apiKeys),
    // A server per session, each with a logger of its own that reaches its own client.
    createServer: () => createServer(result).server,
    idleMs: SESSION_IDLE_MS,
    maxSessions: MAX_SESSIONS,
    log: (lvl, message, data) => log[lvl](message, data),
  });
  const http = createHttpServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/mcp") {
      endpoint.handle(req, res).catch((err: unknown) => {
        log.error("MCP request failed", { error: (err as Error)?.message ?? String(err) });
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32603, message: "Internal error" }, id: null }));
      });
      return;
    }
    if (path === "/health" && req.method === "GET") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ status: "ok", sessions: endpoint.sessionCount }));
      return;
    }
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "not found: the MCP endpoint is /mcp" }));
  });
  await listenOn(http, listen);
  const { port } = http.address() as AddressInfo;
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return {
    url: `http://${host}:${port}/mcp`,
    async close() {
      // Sessions first: their streams end and their calls are cancelled; then the listener.
      await endpoint.close();
      const grace = setTimeout(() => http.closeAllConnections(), SHUTDOWN_GRACE_MS).unref();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      clearTimeout(grace);
    },
  };
}

function listenOn(http: HttpServer, listen: ListenSettings): Promise<void> {
  return new Promise((resolve, reject) => {
    http.once("error", (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === "EADDRINUSE" ? `port ${listen.port} on ${listen.host} is in use: choose another with PORT (--port)` : err.message)),
    );
    http.listen(listen.port, listen.host, () => resolve());
  });
}

/** Bearer keys compared as sha256 digests in constant time; no keys: everyone is the one anonymous caller. */
function keyCheck(keys: string[]): (req: IncomingMessage) => Caller | undefined {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  const known = keys.map((k, i) => ({ id: `key-${i + 1}`, hash: digest(k) }));
  return (req) => {
    if (known.length === 0) return { id: "anonymous" };
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
    if (!m) return undefined;
    const given = digest(m[1]!.trim());
    return known.find((k) => timingSafeEqual(k.hash, given));
  };
}
