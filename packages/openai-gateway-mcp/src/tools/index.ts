import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { registerChatCompletionTool } from "./chat-completion.ts";
import type { ToolContext } from "./context.ts";
import { registerListModelsTool } from "./list-models.ts";

export function registerTools(server: McpServer, ctx: ToolContext): void {
  registerChatCompletionTool(server, ctx);
  registerListModelsTool(server, ctx);
}
