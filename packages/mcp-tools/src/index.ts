export * from "./model-backend.ts";
export * from "./tool-failure.ts";
export * from "./register.ts";
export { chatCompletionInput, chatCompletionOutput, chatCompletionTool } from "./chat-completion.ts";
export { InvalidToolArguments, modelToolSet, type ModelToolSet } from "./tool-set.ts";
export { chatMessage, type ChatMessage } from "./chat-messages.ts";
export { listModelsOutput, listModelsTool } from "./list-models.ts";
export { PROGRESS_INTERVAL_MS } from "./progress.ts";
export { MODELS_URI } from "./models-resource.ts";
