/**
 * chat_completion: one chat completion through the gateway. With a progressToken on the request it
 * streams and reports the text as it grows; without one it makes the plain (faster) call. The
 * result is the same either way.
 */
import { z } from "zod";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { authorizationOf, type ToolExtra } from "./call-context.ts";
import type { BackendSource, ChatRequest } from "./model-backend.ts";
import { chatMessage, type ChatMessage } from "./chat-messages.ts";
import { progressReporter } from "./progress.ts";
import { ToolFailure } from "./tool-failure.ts";

const responseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: z.string().regex(/^[\w-]{1,64}$/),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()),
      strict: z.boolean().optional(),
    }),
  }),
]);

export const chatCompletionInput = z
  .object({
    messages: z
      .array(chatMessage)
      .min(1)
      .optional()
      .describe("The conversation, tool calls and their results included; give this or `prompt`"),
    prompt: z.string().min(1).optional().describe("A single user message; give this or `messages`"),
    system: z.string().optional().describe("With `prompt`: a system message before it"),
    model: z.string().min(1).optional().describe("Model name; default: the server's DEFAULT_MODEL"),
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    max_tokens: z.number().int().positive().optional(),
    stop: z.union([z.string(), z.array(z.string()).min(1).max(4)]).optional(),
    seed: z.number().int().optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    response_format: responseFormat.optional().describe("text, json_object, or json_schema with a JSON Schema"),
  })
  .refine((a) => (a.messages === undefined) !== (a.prompt === undefined), {
    message: "give exactly one of `messages` or `prompt`",
  })
  .refine((a) => a.system === undefined || a.prompt !== undefined, {
    message: "`system` goes with `prompt`; with `messages`, put a system message first",
    path: ["system"],
  });

export const chatCompletionOutput = z.object({
  model: z.string(),
  content: z.string(),
  finish_reason: z.string().nullable(),
  usage: z
    .object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
    .nullable(),
});

/** chat_completion: its name, what the client is shown of it, and what it does. */
export const chatCompletionTool = {
  name: "chat_completion",
  config: {
    title: "Chat completion",
    description:
      "Ask a language model through the OpenAI-compatible gateway. Give `prompt` (with an optional `system`) " +
      "or a full `messages` conversation; returns the assistant's reply. Use list_models to see which models you may use.",
    inputSchema: chatCompletionInput,
    outputSchema: chatCompletionOutput,
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
  },
  async run(args: z.infer<typeof chatCompletionInput>, extra: ToolExtra, backend: BackendSource): Promise<CallToolResult> {
    const models = backend();
    const { messages, prompt, system, model, ...options } = args;
    const chosen = model ?? models.defaultModel;
    if (!chosen) throw new ToolFailure("Name a model: pass `model` (list_models shows the ones you may use).");
    const request: ChatRequest = { ...options, model: chosen, messages: messages ?? promptMessages(prompt!, system) };
    const progress = progressReporter(extra);
    const answer = await models.chat(request, { signal: extra.signal, authorization: authorizationOf(extra), onText: progress?.update });
    progress?.finish();
    return {
      content: [{ type: "text", text: answer.content }],
      structuredContent: { ...answer },
    };
  },
};

function promptMessages(prompt: string, system: string | undefined): ChatMessage[] {
  return [...(system ? [{ role: "system" as const, content: system }] : []), { role: "user", content: prompt }];
}
