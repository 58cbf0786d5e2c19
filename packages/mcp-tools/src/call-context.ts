/** The Authorization header of the MCP request that carries a call, when it came over HTTP. */
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";

/** What a tool handler is given besides its arguments. */
export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export function authorizationOf(extra: ToolExtra): string | undefined {
  const value = extra.requestInfo?.headers?.authorization;
  return Array.isArray(value) ? value[0] : value;
}
