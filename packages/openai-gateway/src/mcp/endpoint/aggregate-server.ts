/**
 * The MCP server a client of the gateway's /mcp talks to: one per session, for the key that opened
 * it. It lists the tools of every connected MCP server that the key's grant (`clients[].tools`)
 * allows, under the gateway's public names (`{server}__{tool}`), and calls them through the
 * registry: the backend's progress reaches the client, the client's cancellation (or the end of the
 * session) cancels the backend's call, and a change of any backend's tool list reaches the client
 * as notifications/tools/list_changed. The client's key goes no further than here: each backend
 * gets only its own configured credentials.
 *
 * Results are the backends' own (content, structuredContent, isError), scrubbed of the backends'
 * credentials; a call that produced no result (server down, timeout) is an isError result that says
 * why, so the model reading it can react.
 */
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { ClientKey } from "../../config/types.ts";
import { ToolCallFailure, type CatalogTool, type McpRegistry } from "../clients/types.ts";

export interface AggregateDeps {
  registry: McpRegistry;
  scrub: Scrubber;
  version: string;
  /** The MCP SDK's modules, loaded once the first session opens (a gateway without /mcp clients never loads them). */
  sdk: { Server: typeof Server; types: typeof import("@modelcontextprotocol/sdk/types.js") };
}

export function createAggregateServer(client: ClientKey, deps: AggregateDeps): Server {
  const { registry, scrub, sdk } = deps;
  const { ListToolsRequestSchema, CallToolRequestSchema, McpError, ErrorCode } = sdk.types;
  const server = new sdk.Server(
    { name: "mcpgw", title: "mcpgw gateway", version: deps.version },
    {
      capabilities: { tools: { listChanged: true } },
      instructions: "The tools of the MCP servers behind this gateway, named {server}__{tool}: only those your key may use.",
    },
  );
  const granted = (): CatalogTool[] => (client.tools.length === 0 ? [] : registry.tools(client.tools));

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: granted().map(asMcpTool) }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    // A tool the key may not use is one that does not exist, as on every other route.
    const tool = granted().find((t) => t.name === name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name.slice(0, 200)}`);
    const token = request.params._meta?.progressToken;
    // Progress goes out in order, and all of it before the result: the stream ends with the result.
    let progressSent = Promise.resolve();
    const onProgress = (p: { progress: number; total?: number; message?: string }) => {
      progressSent = progressSent.then(() => extra.sendNotification({ method: "notifications/progress", params: { progressToken: token!, ...p } })).catch(() => {});
    };
    try {
      const result = await registry.call(tool.name, request.params.arguments ?? {}, { signal: extra.signal, ...(token !== undefined ? { onProgress } : {}) });
      await progressSent;
      return scrubbed({ content: result.content, ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}), isError: result.isError } as CallToolResult, scrub);
    } catch (err) {
      if (extra.signal.aborted) throw err;
      const why = err instanceof ToolCallFailure ? `${err.kind.replaceAll("_", " ")}: ${err.message}` : "the call failed";
      return { content: [{ type: "text", text: scrub.text(`The tool ${tool.server}/${tool.tool} gave no result (${why}).`) }], isError: true };
    }
  });

  // Tools come and go with their servers: every session hears of it (until it closes).
  const unsubscribe = registry.onToolsChanged(() => void server.sendToolListChanged().catch(() => {}));
  server.onclose = unsubscribe;
  return server;
}

function asMcpTool(t: CatalogTool): Tool {
  return {
    name: t.name,
    ...(t.title ? { title: t.title } : {}),
    description: t.description ?? `${t.tool} (MCP server ${t.server})`,
    inputSchema: t.inputSchema as Tool["inputSchema"],
    ...(t.outputSchema ? { outputSchema: t.outputSchema as Tool["outputSchema"] } : {}),
    ...(t.annotations ? { annotations: t.annotations } : {}),
  };
}

/** A backend's result with its credentials taken out, wherever in the result they are. */
function scrubbed(result: CallToolResult, scrub: Scrubber): CallToolResult {
  const text = JSON.stringify(result);
  return scrub.leaks(text) ? (JSON.parse(scrub.exact(text)) as CallToolResult) : result;
}
