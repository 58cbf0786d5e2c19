/** createServer(): the MCP server with its tools and logging; transport-agnostic (stdio in the bin, in-memory in tests). */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { createGatewayClient } from "./gateway-client.ts";
import { ToolFailure } from "./gateway-errors.ts";
import { Logger } from "./log.ts";
import type { SettingsResult } from "./settings.ts";
import { registerTools } from "./tools/index.ts";
import { VERSION } from "./version.ts";

export function createServer(result: SettingsResult, log = new Logger(result.ok ? result.settings.logLevel : result.logLevel)) {
  const server = new McpServer(
    { name: "openai-gateway-mcp", title: "OpenAI gateway", version: VERSION },
    {
      capabilities: { logging: {} },
      instructions:
        "Tools that reach language models through an OpenAI-compatible gateway: chat_completion asks a model, list_models lists the models you may use.",
    },
  );
  const gateway = result.ok ? createGatewayClient(result.settings, log) : undefined;
  registerTools(server, {
    ready() {
      if (!result.ok || !gateway) {
        throw new ToolFailure(`openai-gateway-mcp is not configured: ${result.ok ? "" : result.problems.join("; ")}. Set it in the MCP client's env for this server.`);
      }
      return { settings: result.settings, gateway };
    },
  });
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
