/**
 * createServer(): the MCP server with its tools, its prompt ask_model (whose model argument
 * completes from the gateway's list), the resource models://list, and logging; transport-agnostic
 * (stdio or one per HTTP session in the bin, in-memory in tests).
 */
import { registerModelTools } from "@mcpgw/mcp-tools";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { createGatewayClient } from "./gateway-client.ts";
import { ToolFailure } from "./gateway-errors.ts";
import { Logger } from "./log.ts";
import type { SettingsResult } from "./settings.ts";
import { VERSION } from "./version.ts";

export function createServer(result: SettingsResult, log = new Logger(result.ok ? result.settings.logLevel : result.logLevel)) {
  const server = new McpServer(
    { name: "openai-gateway-mcp", title: "OpenAI gateway", version: VERSION },
    {
      capabilities: { logging: {} },
      instructions:
        "Tools that reach language models through an OpenAI-compatible gateway: chat_completion asks a model, list_models lists the models you may use (also the resource models://list). The prompt ask_model puts a question to a model you pick.",
    },
  );
  const gateway = result.ok ? createGatewayClient(result.settings, log) : undefined;
  const tools = registerModelTools(server, () => {
    if (!result.ok || !gateway) {
      throw new ToolFailure(`openai-gateway-mcp is not configured: ${result.ok ? "" : result.problems.join("; ")}. Set it in the MCP client's env for this server.`);
    }
    return gateway;
  });
  server.server.onclose = () => tools.close();
  // Log lines go to the client only once it has finished initializing: before that it has not
  // said it wants them (and some clients drop messages that arrive early).
  server.server.oninitialized = () => {
    log.attach(server);
    gateway?.preload();
  };
  return {
    server,
    log,
    async cleanup() {
      await server.close();
    },
  };
}
