/**
 * The parts of the MCP SDK the registry uses, imported the first time a server connects: a gateway
 * without MCP servers never loads the SDK (and its zod schemas, its HTTP client, cross-spawn), which
 * keeps its idle memory where it was. Only types are imported at the top of the registry's files.
 */
export interface Sdk {
  Client: typeof import("@modelcontextprotocol/sdk/client/index.js").Client;
  StdioClientTransport: typeof import("@modelcontextprotocol/sdk/client/stdio.js").StdioClientTransport;
  /** What the SDK's stdio transport adds to any env it is given (the registry removes them again). */
  DEFAULT_INHERITED_ENV_VARS: string[];
  StreamableHTTPClientTransport: typeof import("@modelcontextprotocol/sdk/client/streamableHttp.js").StreamableHTTPClientTransport;
  StreamableHTTPError: typeof import("@modelcontextprotocol/sdk/client/streamableHttp.js").StreamableHTTPError;
  SSEClientTransport: typeof import("@modelcontextprotocol/sdk/client/sse.js").SSEClientTransport;
  SseError: typeof import("@modelcontextprotocol/sdk/client/sse.js").SseError;
  McpError: typeof import("@modelcontextprotocol/sdk/types.js").McpError;
  ErrorCode: typeof import("@modelcontextprotocol/sdk/types.js").ErrorCode;
  CallToolResultSchema: typeof import("@modelcontextprotocol/sdk/types.js").CallToolResultSchema;
  ToolListChangedNotificationSchema: typeof import("@modelcontextprotocol/sdk/types.js").ToolListChangedNotificationSchema;
  LoggingMessageNotificationSchema: typeof import("@modelcontextprotocol/sdk/types.js").LoggingMessageNotificationSchema;
}

let loading: Promise<Sdk> | undefined;

export function loadSdk(): Promise<Sdk> {
  if (loading) return loading;
  loading = (async () => {
    const [client, stdio, http, sse, types] = await Promise.all([
      import("@modelcontextprotocol/sdk/client/index.js"),
      import("@modelcontextprotocol/sdk/client/stdio.js"),
      import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
      import("@modelcontextprotocol/sdk/client/sse.js"),
      import("@modelcontextprotocol/sdk/types.js"),
    ]);
    return {
      Client: client.Client,
      StdioClientTransport: stdio.StdioClientTransport,
      DEFAULT_INHERITED_ENV_VARS: stdio.DEFAULT_INHERITED_ENV_VARS,
      StreamableHTTPClientTransport: http.StreamableHTTPClientTransport,
      StreamableHTTPError: http.StreamableHTTPError,
      SSEClientTransport: sse.SSEClientTransport,
      SseError: sse.SseError,
      McpError: types.McpError,
      ErrorCode: types.ErrorCode,
      CallToolResultSchema: types.CallToolResultSchema,
      ToolListChangedNotificationSchema: types.ToolListChangedNotificationSchema,
      LoggingMessageNotificationSchema: types.LoggingMessageNotificationSchema,
    };
  })();
  // A failed import (a broken install) is retried by the next connection attempt, not cached.
  loading.catch(() => (loading = undefined));
  return loading;
}
