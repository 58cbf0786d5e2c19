/**
 * The MCP server a client of the gateway's /mcp talks to: one per session, for the key that opened
 * it. Its tools: chat_completion and list_models (@mcpgw/mcp-tools, the same as openai-gateway-mcp's,
 * answered in-process by the gateway's own /v1 as that key), and every tool of every connected MCP
 * server that the key's grant (`clients[].tools`) allows, under the gateway's public names (`{server}__{tool}`), and calls them through the
 * registry: the backend's progress reaches the client, the client's cancellation (or the end of the
 * session) cancels the backend's call, and a change of any backend's tool list reaches the client
 * as notifications/tools/list_changed. The client's key goes no further than here: each backend
 * gets only its own configured credentials.
 *
 * Results are the backends' own (content, structuredContent, isError), scrubbed of the backends'
 * credentials; a call that produced no result (server down, timeout) is an isError result that says
 * why, so the model reading it can react.
 *
 * The servers' prompts are offered as `{server}__{prompt}` and their resources under the servers'
 * own URIs (a URI is what tool results and prompts point at, so it must stay as it is) with
 * `{server}__{name}` names; a read goes to the server that listed the URI. Only with a grant of the
 * whole server (`server`, `server/*` or `*`), as at /mcp/{server}.
 */
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { InvalidToolArguments, type ModelToolSet } from "@mcpgw/mcp-tools";
import type { ClientKey } from "../../config/types.ts";
import { ToolCallFailure, type CatalogTool, type McpRegistry } from "../clients/types.ts";
import { reaches, wholeServer } from "./grants.ts";
import { progressRelay } from "./progress-relay.ts";

export interface AggregateDeps {
  registry: McpRegistry;
  /** chat_completion and list_models, when the gateway serves /v1 (not the tools-only `tools` command). */
  models: ModelToolSet | undefined;
  scrub: Scrubber;
  version: string;
  /** The MCP SDK's modules, loaded once the first session opens (a gateway without /mcp clients never loads them). */
  sdk: { Server: typeof Server; types: typeof import("@modelcontextprotocol/sdk/types.js") };
}

export function createAggregateServer(client: ClientKey, deps: AggregateDeps): Server {
  const { registry, scrub, sdk } = deps;
  const { ListToolsRequestSchema, CallToolRequestSchema, ListPromptsRequestSchema, GetPromptRequestSchema, ListResourcesRequestSchema, ReadResourceRequestSchema, ListResourceTemplatesRequestSchema, McpError, ErrorCode } = sdk.types;
  const server = new sdk.Server(
    { name: "mcpgw", title: "mcpgw gateway", version: deps.version },
    {
      capabilities: { tools: { listChanged: true }, prompts: {}, resources: {}, logging: {} },
      instructions: "The tools of the MCP servers behind this gateway, named {server}__{tool}: only those your key may use.",
    },
  );
  const granted = (): CatalogTool[] => (client.tools.length === 0 ? [] : registry.tools(client.tools));

  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...(deps.models?.tools ?? []), ...granted().map(asMcpTool)] }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra): Promise<CallToolResult> => {
    const name = request.params.name;
    const own = deps.models?.call(name, request.params.arguments, extra);
    if (own) {
      return own.catch((err: unknown) => {
        throw err instanceof InvalidToolArguments ? new McpError(ErrorCode.InvalidParams, err.message) : err;
      });
    }
    // A tool the key may not use is one that does not exist, as on every other route.
    const tool = granted().find((t) => t.name === name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name.slice(0, 200)}`);
    const token = request.params._meta?.progressToken;
    const progress = token === undefined ? undefined : progressRelay(extra, token, scrub);
    try {
      const result = await registry.call(tool.name, request.params.arguments ?? {}, { signal: extra.signal, ...(progress ? { onProgress: progress.send } : {}) });
      await progress?.flushed();
      return scrub.json({ content: result.content, ...(result.structuredContent !== undefined ? { structuredContent: result.structuredContent } : {}), isError: result.isError } as CallToolResult);
    } catch (err) {
      if (extra.signal.aborted) throw err;
      const why = err instanceof ToolCallFailure ? `${err.kind.replaceAll("_", " ")}: ${err.message}` : "the call failed";
      return { content: [{ type: "text", text: scrub.text(`The tool ${tool.server}/${tool.tool} gave no result (${why}).`) }], isError: true };
    }
  });

  /** The ready servers this key may use whole, with their clients, that offer `capability`. */
  const wholeServers = (capability: "prompts" | "resources") =>
    registry
      .statuses()
      .filter((st) => st.state === "ready" && wholeServer(client, st.name))
      .map((st) => ({ name: st.name, client: registry.client(st.name) }))
      .filter((s): s is { name: string; client: NonNullable<typeof s.client> } => s.client !== undefined && Boolean(s.client.getServerCapabilities()?.[capability]));
  /** Each server's answer, those that fail left out (a server down must not hide the others'). */
  const fromEach = async <T>(capability: "prompts" | "resources", ask: (s: { name: string; client: NonNullable<ReturnType<McpRegistry["client"]>> }) => Promise<T[]>) =>
    (await Promise.all(wholeServers(capability).map((s) => ask(s).catch(() => [] as T[])))).flat();
  /** Which server a resource URI came from, as last listed. */
  const resourceServer = new Map<string, string>();

  server.setRequestHandler(ListPromptsRequestSchema, async (_request, extra) => ({
    prompts: await fromEach("prompts", async (s) => (await s.client.listPrompts({}, { signal: extra.signal })).prompts.map((p) => ({ ...p, name: `${s.name}__${p.name}` }))),
  }));
  server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
    const { target, name } = split(request.params.name, "prompts");
    const result = await target.getPrompt({ ...request.params, name }, { signal: extra.signal });
    return scrub.json(result);
  });
  server.setRequestHandler(ListResourcesRequestSchema, async (_request, extra) => {
    const resources = await fromEach(
      "resources",
      async (s) =>
        (await s.client.listResources({}, { signal: extra.signal })).resources.map((r) => {
          if (!resourceServer.has(r.uri)) resourceServer.set(r.uri, s.name);
          return { ...r, name: `${s.name}__${r.name}` };
        }),
    );
    return { resources };
  });
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async (_request, extra) => ({
    resourceTemplates: await fromEach("resources", async (s) => (await s.client.listResourceTemplates({}, { signal: extra.signal })).resourceTemplates.map((t) => ({ ...t, name: `${s.name}__${t.name}` }))),
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
    const uri = request.params.uri;
    // The server that listed it; else (a URI from a tool result or a template) each that may have it, in order.
    const listed = resourceServer.get(uri);
    const candidates = wholeServers("resources").sort((a, b) => Number(b.name === listed) - Number(a.name === listed));
    for (const s of candidates) {
      try {
        const result = await s.client.readResource({ uri }, { signal: extra.signal });
        return scrub.json(result);
      } catch (err) {
        if (extra.signal.aborted) throw err;
      }
    }
    throw new McpError(ErrorCode.InvalidParams, `Resource not found: ${uri.slice(0, 200)}`);
  });

  /** `{server}__{name}` to the server's client and its own name, for a key that may use the whole server. */
  function split(qualified: string, capability: "prompts" | "resources") {
    // The longest server name that prefixes it: a server's name may hold "__" itself.
    const target = wholeServers(capability)
      .filter((s) => qualified.startsWith(`${s.name}__`))
      .sort((a, b) => b.name.length - a.name.length)[0];
    if (!target) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${qualified.slice(0, 200)}`);
    return { target: target.client, name: qualified.slice(target.name.length + 2) };
  }

  // Tools come and go with their servers: every session hears of it (until it closes).
  const unsubscribe = registry.onToolsChanged(() => void server.sendToolListChanged().catch(() => {}));
  // The servers' log messages reach the sessions whose key reaches that server, at the level the
  // client set (logging/setLevel), the logger named after the server, credentials taken out.
  const unlog = registry.onServerLog((from, entry) => {
    if (!reaches(client, from)) return;
    const params = { ...entry, logger: entry.logger ? `${from}/${entry.logger}` : from } as Parameters<Server["sendLoggingMessage"]>[0];
    void server.sendLoggingMessage(scrub.json(params)).catch(() => {});
  });
  server.onclose = () => {
    unsubscribe();
    unlog();
  };
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
