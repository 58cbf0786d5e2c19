/**
 * The `type: "mcp"` tools of a Responses request that the gateway runs itself: those naming one of
 * its own MCP servers by `server_label`, with no `server_url` or one pointing at the gateway's own
 * /mcp. Any other mcp tool (a remote `server_url`, a `connector_id`) is the upstream's to run, and
 * passes through untouched.
 *
 * A key reaches only the servers its `clients[].tools` grant names (as at /mcp and /tools); a label
 * it may not use is answered exactly like one that is not configured, so server names do not leak.
 * The model is offered the granted tools as plain function tools under their gateway names
 * (`{server}__{tool}`), so it needs no MCP support of its own.
 */
import type { ClientKey } from "../config/types.ts";
import { badRequest } from "../errors.ts";
import type { CatalogTool, McpRegistry } from "../mcp/clients/types.ts";
import { reaches } from "../mcp/endpoint/grants.ts";

export interface McpToolSpec {
  type: "mcp";
  server_label?: unknown;
  server_url?: unknown;
  connector_id?: unknown;
  allowed_tools?: unknown;
  require_approval?: unknown;
}

/** One of the gateway's servers as this request may use it. */
export interface LocalServer {
  label: string;
  tools: CatalogTool[];
  /** Why its tools could not be listed (the server is not ready): shown in mcp_list_tools.error. */
  error: string | undefined;
}

export interface OfferedTool {
  tool: CatalogTool;
  label: string;
  /** The call waits for the client's mcp_approval_response. */
  approval: boolean;
}

export interface LocalMcpTools {
  servers: LocalServer[];
  /** By the function name the model sees. */
  offered: Map<string, OfferedTool>;
  /** The request's other tools, as sent. */
  rest: unknown[];
}

const isMcp = (t: unknown): t is McpToolSpec => (t as { type?: unknown } | null)?.type === "mcp";

/** The request's gateway-run mcp tools; undefined when it has none (the request is relayed as it is). */
export function localMcpTools(tools: unknown, ctx: { registry: McpRegistry; client: ClientKey; host: string | undefined }): LocalMcpTools | undefined {
  if (!Array.isArray(tools) || !tools.some((t) => isMcp(t) && isLocal(t, ctx.host))) return undefined;
  const known = ctx.registry.statuses().filter((s) => reaches(ctx.client, s.name));
  const granted = ctx.client.tools.length === 0 ? [] : ctx.registry.tools(ctx.client.tools);
  const servers: LocalServer[] = [];
  const offered = new Map<string, OfferedTool>();
  const rest: unknown[] = [];
  for (const [i, spec] of tools.entries()) {
    if (!isMcp(spec) || !isLocal(spec, ctx.host)) {
      rest.push(spec);
      continue;
    }
    const label = spec.server_label;
    const status = typeof label === "string" ? known.find((s) => s.name === label) : undefined;
    if (!status) {
      const names = known.map((s) => `'${s.name}'`).join(", ") || "none for this key";
      throw badRequest(
        `tools[${i}]: no MCP server labelled '${String(label).slice(0, 64)}' is configured on this gateway (its servers: ${names}). For a remote MCP server, give its server_url.`,
        `tools[${i}].server_label`,
        "unknown_mcp_server",
      );
    }
    if (servers.some((s) => s.label === status.name)) throw badRequest(`tools[${i}]: the MCP server '${status.name}' is listed twice.`, `tools[${i}].server_label`);
    const allowed = allowedFilter(spec.allowed_tools, i);
    const approval = approvalRule(spec.require_approval, i);
    const serverTools = granted.filter((t) => t.server === status.name && allowed(t));
    servers.push({ label: status.name, tools: serverTools, error: status.state === "ready" ? undefined : `the MCP server '${status.name}' is ${status.state}${status.lastError ? `: ${status.lastError}` : ""}` });
    for (const tool of serverTools) offered.set(tool.name, { tool, label: status.name, approval: approval(tool.tool) });
  }
  return { servers, offered, rest };
}

/** No server_url, or one naming this gateway's /mcp or /mcp/{server} on the host the request came to. */
function isLocal(spec: McpToolSpec, host: string | undefined): boolean {
  // OpenAI's connectors and tunnels are reached by the upstream, never by the gateway.
  if (spec.connector_id !== undefined || (spec as { tunnel_id?: unknown }).tunnel_id !== undefined) return false;
  if (spec.server_url === undefined || spec.server_url === null || spec.server_url === "") return true;
  if (typeof spec.server_url !== "string" || !host) return false;
  try {
    const url = new URL(spec.server_url);
    return url.host.toLowerCase() === host.toLowerCase() && /^\/mcp(\/[^/]+)?\/?$/.test(url.pathname);
  } catch {
    return false;
  }
}

/** `allowed_tools`: a list of names, or `{tool_names, read_only}`. */
function allowedFilter(value: unknown, i: number): (t: CatalogTool) => boolean {
  if (value === undefined || value === null) return () => true;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return (t) => value.includes(t.tool);
  if (typeof value === "object" && !Array.isArray(value)) {
    const { tool_names: names, read_only: readOnly } = value as { tool_names?: unknown; read_only?: unknown };
    if ((names === undefined || (Array.isArray(names) && names.every((v) => typeof v === "string"))) && (readOnly === undefined || typeof readOnly === "boolean")) {
      return (t) => (names === undefined || (names as string[]).includes(t.tool)) && (readOnly !== true || t.annotations?.readOnlyHint === true);
    }
  }
  throw badRequest(`tools[${i}].allowed_tools must be a list of tool names or {"tool_names": [...], "read_only": bool}.`, `tools[${i}].allowed_tools`);
}

/**
 * `require_approval`: "never", "always", or `{always: {tool_names}, never: {tool_names}}`. As at
 * OpenAI, a tool is approved first unless the request says "never" for it.
 */
function approvalRule(value: unknown, i: number): (tool: string) => boolean {
  if (value === "never") return () => false;
  if (value === undefined || value === null || value === "always") return () => true;
  if (typeof value === "object" && !Array.isArray(value)) {
    const { always, never } = value as { always?: { tool_names?: unknown }; never?: { tool_names?: unknown } };
    const list = (v: { tool_names?: unknown } | undefined) => (Array.isArray(v?.tool_names) ? (v.tool_names.filter((n) => typeof n === "string") as string[]) : []);
    const ask = list(always);
    const skip = list(never);
    // A tool listed is as listed; any other is asked for, unless the request lists only the ones to ask for.
    const others = !(always !== undefined && never === undefined);
    return (tool) => (skip.includes(tool) ? false : ask.includes(tool) ? true : others);
  }
  throw badRequest(`tools[${i}].require_approval must be "always", "never" or {"always": {"tool_names": [...]}, "never": {"tool_names": [...]}}.`, `tools[${i}].require_approval`);
}

/** The tools the model is offered in place of the mcp ones: functions, with the server's schema. */
export function asResponsesFunctions(offered: Map<string, OfferedTool>): object[] {
  return [...offered.entries()].map(([name, { tool, label }]) => ({
    type: "function",
    name,
    description: tool.description ?? tool.title ?? tool.annotations?.title ?? `${tool.tool} (MCP server ${label})`,
    parameters: tool.inputSchema,
    strict: false,
  }));
}

/** The mcp_list_tools item of one server, in the Responses API's shape. */
export function listToolsItem(server: LocalServer, id: string): Record<string, unknown> {
  return {
    type: "mcp_list_tools",
    id,
    server_label: server.label,
    tools: server.tools.map((t) => ({ name: t.tool, description: t.description ?? null, input_schema: t.inputSchema, annotations: t.annotations ?? null })),
    ...(server.error ? { error: server.error } : {}),
  };
}
