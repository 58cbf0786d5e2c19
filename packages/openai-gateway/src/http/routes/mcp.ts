/**
 * /mcp: the gateway as one MCP server over Streamable HTTP, serving the tools of every MCP server it
 * supervises that the calling key may use (mcp/endpoint/aggregate-server.ts). Sessions, Host and
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
import type { McpRegistry } from "../../mcp/clients/types.ts";
import { createAggregateServer } from "../../mcp/endpoint/aggregate-server.ts";
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
}

type KeyCaller = Caller & { client: ClientKey };

export async function mcpRoutes(app: FastifyInstance, deps: McpRouteDeps): Promise<void> {
  const authenticate = createAuthenticator(deps.clients);
  let endpoint: Promise<McpHttpEndpoint<KeyCaller>> | undefined;
  const load = () =>
    (endpoint ??= (async () => {
      const [{ McpHttpEndpoint }, { Server }, types] = await Promise.all([
        import("@mcpgw/mcp-http"),
        import("@modelcontextprotocol/sdk/server/index.js"),
        import("@modelcontextprotocol/sdk/types.js"),
      ]);
      return new McpHttpEndpoint<KeyCaller>({
        realm: "mcpgw",
        loopback: deps.loopback,
        allowedOrigins: deps.allowedOrigins,
        authenticate(req) {
          try {
            const client = authenticate(req.headers.authorization);
            return { id: client.name, client };
          } catch {
            return undefined;
          }
        },
        createServer: (caller) => createAggregateServer(caller.client, { registry: deps.registry, scrub: deps.scrub, version: deps.version, sdk: { Server, types } }),
        idleMs: deps.idleMs,
        maxSessions: deps.maxSessions,
        log: (level, message, data) => app.log[level](data ?? {}, message),
      });
    })());

  const handle = async (request: FastifyRequest, reply: FastifyReply) => {
    const mcp = await load();
    // From here the transport writes the response itself; headers set on `reply` would be lost.
    reply.hijack();
    await mcp.handle(request.raw, reply.raw, request.body);
  };
  app.route({ method: ["GET", "POST", "DELETE"], url: "/mcp", handler: handle });
  app.addHook("preClose", async () => {
    if (endpoint) await (await endpoint).close();
  });
}
