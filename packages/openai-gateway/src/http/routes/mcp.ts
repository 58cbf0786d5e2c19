/**
 * /mcp: the gateway as one MCP server over Streamable HTTP, serving the tools of every MCP server it
 * supervises that the calling key may use (mcp/endpoint/aggregate-server.ts). /mcp/{server}: one of
 * those servers re-served as it is, every message relayed, a connection to it per session
 * (mcp/endpoint/server-proxy.ts). Sessions, Host and
 * Origin checks, bearer keys and resumable streams are @mcpgw/mcp-http's; the key is checked as on
 * every route (a 401 carries WWW-Authenticate, and no OAuth metadata is served). Pages of the
 * origins in server.cors.origins may call it; any other page gets 403.
 *
 * The MCP SDK and the endpoint load at the first request, so a gateway nobody asks for MCP starts
 * as fast as before. On shutdown every session ends first, so open streams do not hold the drain.
 */
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { Caller, McpHttpEndpoint } from "@mcpgw/mcp-http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ClientKey } from "../../config/types.ts";
import type { McpRegistry, McpServerConfig } from "../../mcp/clients/types.ts";
import type { ProxySdk } from "../../mcp/endpoint/server-proxy.ts";
import { reaches } from "../../mcp/endpoint/grants.ts";
import { createAuthenticator } from "../plugins/client-auth.ts";

export interface McpRouteDeps {
  registry: McpRegistry;
  clients: ClientKey[];
  scrub: Scrubber;
  version: string;
  /** The gateway listens on loopback: only loopback Host names are answered. */
  loopback: boolean;
  allowedOrigins: string[];
  idleMs: number;
  maxSessions: number;
  /** A configured server by name (the current config, after reloads). */
  server(name: string): McpServerConfig | undefined;
  /** What a stdio server inherits of the gateway's environment, read at start. */
  inheritedEnv: Record<string, string>;
  /**
   * chat_completion's model when a call names none, per key; undefined: no chat_completion and
   * list_models at all (the `tools` command serves no models).
   */
  defaultModel: ((client: ClientKey) => string | undefined) | undefined;
}

/**
 * /mcp/{server} sessions each hold a connection of their own to the server: for a stdio server a
 * child process, so fewer of them, and shorter lived when idle.
 */
const PROXY_LIMITS = { stdio: { maxSessions: 20, idleMs: 5 * 60_000 }, http: { maxSessions: 200, idleMs: 30 * 60_000 } };
const CONNECT_TIMEOUT_MS = 30_000;

type KeyCaller = Caller & { client: ClientKey };

interface Loaded {
  McpHttpEndpoint: typeof McpHttpEndpoint;
  createAggregateServer: typeof import("../../mcp/endpoint/aggregate-server.ts").createAggregateServer;
  createServerProxy: typeof import("../../mcp/endpoint/server-proxy.ts").createServerProxy;
  ProxyUnavailable: typeof import("../../mcp/endpoint/server-proxy.ts").ProxyUnavailable;
  modelToolSet: typeof import("@mcpgw/mcp-tools").modelToolSet;
  inProcessModels: typeof import("../../mcp/endpoint/in-process-models.ts").inProcessModels;
}

export async function mcpRoutes(app: FastifyInstance, deps: McpRouteDeps): Promise<void> {
  const authenticate = createAuthenticator(deps.clients);
  const authenticateCaller = (req: { headers: { authorization?: string } }): KeyCaller | undefined => {
    try {
      const client = authenticate(req.headers.authorization);
      return { id: client.name, client };
    } catch {
      return undefined;
    }
  };
  // The SDK, the endpoint and what builds on them load at the first /mcp request.
  let sdk: Promise<ProxySdk & Loaded> | undefined;
  const loadSdk = () =>
    (sdk ??= (async () => {
      const [{ McpHttpEndpoint }, { Server }, { Client }, { StdioClientTransport }, { StreamableHTTPClientTransport }, { SSEClientTransport }, types, aggregate, proxy, tools, inProcess] = await Promise.all([
        import("@mcpgw/mcp-http"),
        import("@modelcontextprotocol/sdk/server/index.js"),
        import("@modelcontextprotocol/sdk/client/index.js"),
        import("@modelcontextprotocol/sdk/client/stdio.js"),
        import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
        import("@modelcontextprotocol/sdk/client/sse.js"),
        import("@modelcontextprotocol/sdk/types.js"),
        import("../../mcp/endpoint/aggregate-server.ts"),
        import("../../mcp/endpoint/server-proxy.ts"),
        import("@mcpgw/mcp-tools"),
        import("../../mcp/endpoint/in-process-models.ts"),
      ]);
      return {
        McpHttpEndpoint, Server, Client, StdioClientTransport, StreamableHTTPClientTransport, SSEClientTransport, types,
        createAggregateServer: aggregate.createAggregateServer, createServerProxy: proxy.createServerProxy, ProxyUnavailable: proxy.ProxyUnavailable, modelToolSet: tools.modelToolSet,
        inProcessModels: inProcess.inProcessModels,
      };
    })());
  const guard = { loopback: deps.loopback, allowedOrigins: deps.allowedOrigins };
  const log = (level: "info" | "warn", message: string, data?: Record<string, unknown>) => app.log[level](data ?? {}, message);

  let aggregate: Promise<McpHttpEndpoint<KeyCaller>> | undefined;
  const loadAggregate = () =>
    (aggregate ??= loadSdk().then(
      (m) =>
        new m.McpHttpEndpoint<KeyCaller>({
          realm: "mcpgw",
          ...guard,
          authenticate: authenticateCaller,
          createServer: (caller) =>
            m.createAggregateServer(caller.client, {
              registry: deps.registry,
              models: deps.defaultModel ? m.modelToolSet(() => m.inProcessModels(app, deps.defaultModel!(caller.client) ?? "")) : undefined,
              scrub: deps.scrub,
              version: deps.version,
              sdk: { Server: m.Server, types: m.types },
            }),
          idleMs: deps.idleMs,
          maxSessions: deps.maxSessions,
          log,
        }),
    ));

  /** One endpoint per re-served server, made at its first session; a server removed by a reload takes its sessions along. */
  const proxies = new Map<string, { config: McpServerConfig; endpoint: Promise<McpHttpEndpoint<KeyCaller>> }>();
  const proxyFor = (name: string): Promise<McpHttpEndpoint<KeyCaller>> | undefined => {
    const config = deps.server(name);
    const known = proxies.get(name);
    // A reload replaces every config object; only one that changed the server ends its sessions.
    if (known && known.config !== config) {
      if (config && JSON.stringify(known.config) === JSON.stringify(config)) known.config = config;
      else {
        proxies.delete(name);
        void known.endpoint.then((e) => e.close());
      }
    }
    if (!config) return undefined;
    if (proxies.has(name)) return proxies.get(name)!.endpoint;
    const limits = config.transport.type === "stdio" ? PROXY_LIMITS.stdio : PROXY_LIMITS.http;
    const endpoint = loadSdk().then(
      (m) =>
        new m.McpHttpEndpoint<KeyCaller>({
          realm: "mcpgw",
          ...guard,
          authenticate: authenticateCaller,
          createServer: (caller, _id, init) =>
            m.createServerProxy({
              server: config,
              client: caller.client,
              clientInfo: init.clientInfo,
              clientCapabilities: init.capabilities,
              inheritedEnv: deps.inheritedEnv,
              scrub: deps.scrub,
              version: deps.version,
              sdk: m,
              connectTimeoutMs: CONNECT_TIMEOUT_MS,
            }),
          ...limits,
          log,
        }),
    );
    proxies.set(name, { config, endpoint });
    return endpoint;
  };

  /** From here the transport writes the response itself; headers set on `reply` would be lost. */
  const serve = async (request: FastifyRequest, reply: FastifyReply, endpoint: McpHttpEndpoint<KeyCaller>) => {
    const { ProxyUnavailable } = await loadSdk();
    // What the hooks have set so far (the request id, CORS for an allowed page) goes on the raw response.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value as string | number | string[]);
    reply.hijack();
    try {
      await endpoint.handle(request.raw, reply.raw, request.body);
    } catch (err) {
      const unavailable = err instanceof ProxyUnavailable;
      if (!unavailable) request.log.error({ err }, "MCP request failed");
      const res = reply.raw;
      if (!res.headersSent) res.writeHead(unavailable ? 502 : 500, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32603, message: unavailable ? err.message : "Internal error" }, id: null }));
    }
  };

  app.route({ method: ["GET", "POST", "DELETE"], url: "/mcp", handler: async (request, reply) => serve(request, reply, await loadAggregate()) });
  app.route<{ Params: { server: string } }>({
    method: ["GET", "POST", "DELETE"],
    url: "/mcp/:server",
    handler: async (request, reply) => {
      const caller = authenticateCaller(request.raw);
      // A server the key's grant does not reach is one that does not exist, as on every other route.
      const endpoint = caller && !reaches(caller.client, request.params.server) ? undefined : proxyFor(request.params.server);
      if (!endpoint) {
        return reply
          .code(404)
          .type("application/json")
          .send({ jsonrpc: "2.0", error: { code: -32001, message: `There is no MCP server '${request.params.server.slice(0, 100)}' behind this gateway.` }, id: null });
      }
      return serve(request, reply, await endpoint);
    },
  });
  app.addHook("preClose", async () => {
    const endpoints = [aggregate, ...[...proxies.values()].map((p) => p.endpoint)].filter((e) => e !== undefined);
    await Promise.all(endpoints.map(async (e) => (await e).close()));
  });
}
