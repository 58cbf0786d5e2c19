/**
 * /mcp/{server}: one of the gateway's MCP servers re-served as it is, for clients that want exactly
 * that server: its own name, capabilities, instructions, and its tools, prompts and resources under
 * their own names. Every message is relayed both ways: the client's requests and notifications to
 * the server; the server's notifications (logging, progress, list_changed, resource updates) and
 * its requests of the client (sampling, elicitation, roots) back to the client.
 *
 * Each client session gets a connection of its own to the server (a child process for a stdio
 * server, a session of its own for an HTTP one): what a server asks of "its client" then goes to
 * the one client it belongs to, and no session sees another's state. Sessions are capped and end
 * when idle (@mcpgw/mcp-http), so the connections are too. The client's key goes no further than
 * here; the server gets its configured credentials only.
 *
 * A key reaches the server when its grant (`clients[].tools`) names any of its tools; it lists and
 * calls only the tools it is granted, and uses prompts, resources and completions only with a grant
 * of the whole server (`server`, `server/*` or `*`).
 */
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Server } from "@modelcontextprotocol/sdk/server/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { ClientCapabilities, Implementation, JSONRPCRequest, Notification, Request, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { ClientKey } from "../../config/types.ts";
import { matchesSelector } from "../selectors.ts";
import { wholeServer } from "./grants.ts";
import { progressRelay } from "./progress-relay.ts";
import { responsesAfterNotifications } from "../clients/message-order.ts";
import type { McpServerConfig } from "../clients/types.ts";

export interface ProxySdk {
  Client: typeof Client;
  Server: typeof Server;
  StdioClientTransport: typeof import("@modelcontextprotocol/sdk/client/stdio.js").StdioClientTransport;
  StreamableHTTPClientTransport: typeof import("@modelcontextprotocol/sdk/client/streamableHttp.js").StreamableHTTPClientTransport;
  SSEClientTransport: typeof import("@modelcontextprotocol/sdk/client/sse.js").SSEClientTransport;
  types: typeof import("@modelcontextprotocol/sdk/types.js");
}

export interface ProxyDeps {
  server: McpServerConfig;
  client: ClientKey;
  /** The client's initialize: its capabilities are what the server is told its client has. */
  clientInfo: Implementation;
  clientCapabilities: ClientCapabilities;
  /** PATH, HOME, LANG, TMPDIR of the gateway: all of its environment a stdio server gets besides its own `env`. */
  inheritedEnv: Record<string, string>;
  scrub: Scrubber;
  version: string;
  sdk: ProxySdk;
  /** How long the server may take to answer initialize. */
  connectTimeoutMs: number;
}

/** The server could not be reached for this session: the client is told so (502), in words. */
export class ProxyUnavailable extends Error {
  override readonly name = "ProxyUnavailable";
}

export async function createServerProxy(deps: ProxyDeps): Promise<{ connect(t: Transport): Promise<void>; close(): Promise<void> }> {
  const { sdk, server: config, client: key } = deps;
  const { McpError, ErrorCode, ResultSchema } = sdk.types;
  const whole = wholeServer(key, config.name);
  // What the server says is untrusted: its own credentials (env, headers) are taken out of all of it.
  const clean = <T>(value: T): T => deps.scrub.json(value);
  const mayCall = (tool: string) => key.tools.some((s) => matchesSelector(s, config.name, tool));

  const backend = new sdk.Client({ name: "mcpgw", version: deps.version }, { capabilities: deps.clientCapabilities });
  const transport = backendTransport(deps);
  try {
    await backend.connect(transport, { timeout: deps.connectTimeoutMs });
  } catch (err) {
    await backend.close().catch(() => {});
    throw new ProxyUnavailable(deps.scrub.text(`The MCP server '${config.name}' could not be reached: ${(err as Error)?.message ?? String(err)}`));
  }
  responsesAfterNotifications(transport);

  const frontend = new sdk.Server(backend.getServerVersion() ?? { name: config.name, version: "unknown" }, {
    capabilities: backend.getServerCapabilities() ?? {},
    ...(backend.getInstructions() ? { instructions: backend.getInstructions()! } : {}),
  });
  // The server's own answer, not the SDK's: its level filter is the server's business.
  frontend.removeRequestHandler("logging/setLevel");

  // The client's requests in flight, newest last: what the server asks or says meanwhile relates to them.
  const inFlight: (string | number)[] = [];
  const related = () => (inFlight.length > 0 ? { relatedRequestId: inFlight.at(-1)! } : {});

  frontend.fallbackRequestHandler = async (request: JSONRPCRequest, extra) => {
    const params = (request.params ?? {}) as Record<string, unknown> & { _meta?: { progressToken?: string | number } };
    if (request.method === "tools/call" && !mayCall(String(params.name))) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${String(params.name).slice(0, 200)}`);
    if (!whole && !request.method.startsWith("tools/")) throw new McpError(ErrorCode.InvalidRequest, `This key may use only some tools of '${config.name}', not its ${request.method.split("/")[0]}.`);
    const token = params._meta?.progressToken;
    const { _meta, ...rest } = params;
    const meta = _meta ? Object.fromEntries(Object.entries(_meta).filter(([k]) => k !== "progressToken")) : undefined;
    const progress = token === undefined ? undefined : progressRelay(extra, token, deps.scrub);
    inFlight.push(extra.requestId);
    try {
      const result = await backend.request({ method: request.method, params: { ...rest, ...(meta && Object.keys(meta).length > 0 ? { _meta: meta } : {}) } } as Request, ResultSchema, {
        signal: extra.signal,
        timeout: config.toolTimeoutMs,
        ...(progress ? { resetTimeoutOnProgress: true, onprogress: progress.send } : {}),
      });
      await progress?.flushed();
      if (request.method === "tools/list" && Array.isArray(result.tools)) return clean({ ...result, tools: (result.tools as Tool[]).filter((t) => mayCall(t.name)) });
      return clean(result);
    } finally {
      inFlight.splice(inFlight.lastIndexOf(extra.requestId), 1);
    }
  };
  frontend.fallbackNotificationHandler = async (notification: Notification) => {
    await backend.notification(notification);
  };

  backend.fallbackRequestHandler = async (request: JSONRPCRequest, extra) =>
    frontend.request({ method: request.method, params: clean(request.params) } as Request, ResultSchema, { signal: extra.signal, ...related() });
  backend.fallbackNotificationHandler = async (notification: Notification) => {
    await frontend.notification(clean(notification), related());
  };

  // Either side gone ends the other: a server that died ends the session (the client starts a new one).
  let closing = false;
  const closeBoth = async () => {
    if (closing) return;
    closing = true;
    await Promise.allSettled([frontend.close(), backend.close()]);
  };
  frontend.onclose = () => void closeBoth();
  backend.onclose = () => void closeBoth();

  return {
    connect: (t) => frontend.connect(t),
    close: closeBoth,
  };
}

function backendTransport(deps: ProxyDeps): Transport {
  const t = deps.server.transport;
  if (t.type === "stdio") {
    return new deps.sdk.StdioClientTransport({ command: t.command, args: t.args, env: { ...deps.inheritedEnv, ...t.env }, ...(t.cwd ? { cwd: t.cwd } : {}), stderr: "ignore" });
  }
  const options = { requestInit: { headers: t.headers } };
  return t.type === "sse" ? new deps.sdk.SSEClientTransport(new URL(t.url), options) : new deps.sdk.StreamableHTTPClientTransport(new URL(t.url), options);
}
