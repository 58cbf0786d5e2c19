/**
 * MCP tools as REST endpoints, in mcpo's layout under /tools: `POST /tools/{server}/{tool}` with the
 * arguments as the JSON body; `GET /tools/{server}/openapi.json` and `/tools/{server}/docs` for one
 * server (the URL an mcpo or Open WebUI user adds as a tool server); `GET /tools/openapi.json` and
 * `/tools/docs` for every tool the calling key may use. Specs follow the live tool list.
 *
 * A key calls only the tools its grant allows (`clients[].tools`); a tool it may not use answers
 * exactly like one that does not exist. Errors in OpenAI's shape: 422 arguments the schema rejects,
 * 404 no such tool, 424 the tool's own failure (isError), 503 its server not connected, 504 its
 * timeout. A client that leaves cancels the call on the MCP server.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import fastifyStatic from "@fastify/static";
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ClientKey } from "../../config/types.ts";
import { GatewayError } from "../../errors.ts";
import { ToolCallFailure, type CatalogTool, type McpRegistry } from "../../mcp/clients/types.ts";
import { matchesSelector } from "../../mcp/selectors.ts";
import { withinLifetime } from "../../request-lifetime.ts";
import { docsPage } from "../../tools-api/docs-page.ts";
import { toolsOpenApi } from "../../tools-api/openapi.ts";
import { toolAnswer, toolErrorText } from "../../tools-api/tool-answer.ts";
import { checkArguments } from "../../tools-api/tool-arguments.ts";
import { clientAuth } from "../plugins/client-auth.ts";

export interface ToolsRouteDeps {
  registry: McpRegistry;
  clients: ClientKey[];
  publicDocs: boolean;
  scrub: Scrubber;
  totalMs: number;
  version: string;
}

const ASSETS = "/tools/docs-assets";
/** Who reads the public docs without a key: every tool listed, none callable (calls need a key). */
const DOCS_READER: ClientKey = { name: "docs-reader", hash: Buffer.alloc(32), models: [], tools: ["*"], admin: false };

export async function toolsRoutes(app: FastifyInstance, deps: ToolsRouteDeps): Promise<void> {
  const { registry } = deps;

  // Pages and their assets need no key: the page asks for one.
  await app.register(async (pages) => {
    const swaggerUi = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
    await pages.register(fastifyStatic, { root: swaggerUi, prefix: `${ASSETS}/`, decorateReply: false, index: false });
    const page = (title: string, specUrl: string) => (_req: FastifyRequest, reply: FastifyReply) =>
      reply.type("text/html; charset=utf-8").send(docsPage({ title, specUrl, assets: ASSETS, publicDocs: deps.publicDocs }));
    pages.get("/tools/docs", page("MCP tools of this gateway", "/tools/openapi.json"));
    pages.get<{ Params: { server: string } }>("/tools/:server/docs", (req, reply) => {
      known(req.params.server);
      return page(`${req.params.server} (MCP server)`, `/tools/${encodeURIComponent(req.params.server)}/openapi.json`)(req, reply);
    });
  });

  // The specs: a key's own tools; without a key only when the docs are public.
  await app.register(async (specs) => {
    await specs.register(clientAuth, { clients: deps.clients, ...(deps.publicDocs ? { withoutKey: DOCS_READER } : {}) });
    specs.get("/tools/openapi.json", async (request) =>
      toolsOpenApi(granted(request.client!), {
        title: "MCP tools of this gateway",
        description: "Every MCP tool this key may use, from every MCP server of the gateway. Each operation's arguments are its JSON body.",
        version: deps.version,
        baseUrl: "/tools",
        pathOf: (t) => `/${encodeURIComponent(t.server)}/${encodeURIComponent(t.tool)}`,
        operationIdOf: (t) => t.name,
      }),
    );
    specs.get<{ Params: { server: string } }>("/tools/:server/openapi.json", async (request) => {
      const server = request.params.server;
      known(server);
      return toolsOpenApi(
        granted(request.client!).filter((t) => t.server === server),
        {
          title: `${server} (MCP server)`,
          description: `The tools of the MCP server '${server}' that this key may use, served by the gateway. Each operation's arguments are its JSON body.`,
          version: deps.version,
          baseUrl: `/tools/${encodeURIComponent(server)}`,
          pathOf: (t) => `/${encodeURIComponent(t.tool)}`,
          operationIdOf: (t) => t.tool,
        },
      );
    });
  });

  // The calls: always with a key.
  await app.register(async (calls) => {
    await calls.register(clientAuth, { clients: deps.clients });
    calls.post<{ Params: { server: string; tool: string } }>("/tools/:server/:tool", async (request, reply) => {
      const { server, tool: toolName } = request.params;
      const tool = callable(request.client!, server, toolName);
      const args = request.body ?? {};
      if (!args || typeof args !== "object" || Array.isArray(args)) {
        throw new GatewayError(422, `The body must be a JSON object holding the arguments of ${toolName}.`, { code: "invalid_arguments" });
      }
      checkArguments(`${server}/${toolName}`, tool.inputSchema, args);
      return withinLifetime(reply, deps.totalMs, async (life) => {
        let result;
        try {
          result = await registry.call(tool.name, args as Record<string, unknown>, { signal: life.signal });
        } catch (err) {
          if (life.signal.aborted) throw life.signal.reason;
          throw failure(err, server, toolName);
        }
        if (result.isError) throw new GatewayError(424, `The tool ${server}/${toolName} reported an error: ${toolErrorText(result, deps.scrub)}`, { code: "tool_error" });
        return reply.type("application/json").send(JSON.stringify(toolAnswer(result, deps.scrub)));
      });
    });
  });

  /** The tools a key may see, of servers that are ready. */
  function granted(client: ClientKey): CatalogTool[] {
    return client.tools.length === 0 ? [] : registry.tools(client.tools);
  }

  /** 404 for a server the gateway does not have. */
  function known(server: string): void {
    if (!registry.statuses().some((s) => s.name === server)) throw notFound(`There is no MCP server '${server}'.`);
  }

  /** The tool a call names: 404 when it does not exist or the key may not use it, 503 when its server is down. */
  function callable(client: ClientKey, server: string, toolName: string): CatalogTool {
    const status = registry.statuses().find((s) => s.name === server);
    const missing = () => notFound(`There is no tool '${toolName}' of an MCP server '${server}', or this key may not use it.`);
    if (!status || !client.tools.some((s) => matchesSelector(s, server, toolName))) throw missing();
    if (status.state !== "ready") {
      throw new GatewayError(503, `The MCP server '${server}' is not connected (${status.state}${status.lastError ? `: ${status.lastError}` : ""}).`, { code: "mcp_server_unavailable" });
    }
    const tool = registry.tools(client.tools).find((t) => t.server === server && t.tool === toolName);
    if (!tool) throw missing();
    return tool;
  }
}

const notFound = (message: string) => new GatewayError(404, message, { code: "tool_not_found" });

function failure(err: unknown, server: string, tool: string): GatewayError {
  if (!(err instanceof ToolCallFailure)) return new GatewayError(502, `The call to ${server}/${tool} failed.`, { code: "mcp_server_error" });
  switch (err.kind) {
    case "timeout":
      return new GatewayError(504, err.message, { code: "tool_timeout" });
    case "server_unavailable":
      return new GatewayError(503, err.message, { code: "mcp_server_unavailable" });
    case "unknown_tool":
      return notFound(err.message);
  }
  // The server refused the call itself (a JSON-RPC error: invalid params, its own unknown tool).
  return new GatewayError(502, err.message, { code: "mcp_server_error" });
}
