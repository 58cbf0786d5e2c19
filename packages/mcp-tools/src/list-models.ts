/** list_models: the models the key may use. */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { authorizationOf, type ToolExtra } from "./call-context.ts";
import type { BackendSource } from "./model-backend.ts";

export const listModelsOutput = z.object({
  models: z.array(z.object({ id: z.string(), owned_by: z.string(), created: z.number() })),
});

export const listModelsTool = {
  name: "list_models",
  config: {
    title: "List models",
    description: "List the models this gateway key may use (ids to pass as `model` to chat_completion).",
    inputSchema: z.object({}),
    outputSchema: listModelsOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true },
  },
  async run(_args: Record<string, never>, extra: ToolExtra, backend: BackendSource): Promise<CallToolResult> {
    const models = await backend().listModels({ signal: extra.signal, authorization: authorizationOf(extra) });
    const text = models.length === 0 ? "No models are available to this key." : models.map((m) => `${m.id} (${m.owned_by})`).join("\n");
    return { content: [{ type: "text", text }], structuredContent: { models } };
  },
};
