/**
 * Everything of the model tools on one McpServer: the tools chat_completion and list_models, the
 * prompt ask_model (its model argument completed from the backend's list) and the resource
 * models://list. Returns what has to stop when the server closes (the resource's watch).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { registerAskModelPrompt } from "./ask-model.ts";
import { chatCompletionTool } from "./chat-completion.ts";
import { listModelsTool } from "./list-models.ts";
import type { BackendSource } from "./model-backend.ts";
import { ModelNames } from "./model-names.ts";
import { registerModelsResource } from "./models-resource.ts";

export function registerModelTools(server: McpServer, backend: BackendSource): { close(): void } {
  server.registerTool(chatCompletionTool.name, chatCompletionTool.config, (args, extra) => chatCompletionTool.run(args, extra, backend));
  server.registerTool(listModelsTool.name, listModelsTool.config, (_args, extra) => listModelsTool.run({}, extra, backend));
  const models = new ModelNames(backend);
  registerAskModelPrompt(server, models);
  return registerModelsResource(server, models);
}
