/** list_models: the models the gateway key may use. */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { ToolContext } from "./context.ts";

export const listModelsOutput = z.object({
  models: z.array(z.object({ id: z.string(), owned_by: z.string(), created: z.number() })),
});

export function registerListModelsTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    "list_models",
    {
      title: "List models",
      description: "List the models this gateway key may use (ids to pass as `model` to chat_completion).",
      outputSchema: listModelsOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
    },
    async (extra) => {
      const { gateway } = ctx.ready();
      const models = await gateway.listModels({ signal: extra.signal });
      const text = models.length === 0 ? "No models are available to this key." : models.map((m) => `${m.id} (${m.owned_by})`).join("\n");
      return { content: [{ type: "text", text }], structuredContent: { models } };
    },
  );
}
