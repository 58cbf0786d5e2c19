/**
 * chat_completion: one chat completion through the gateway. With a progressToken on the request it
 * streams and reports the text as it grows; without one it makes the plain (faster) call. The
 * result is the same either way.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import type { ChatRequest } from "../gateway-client.ts";
import { chatMessage, type ChatMessage } from "./chat-messages.ts";
import type { ToolContext } from "./context.ts";
import { progressReporter } from "./progress.ts";

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

export function registerChatCompletionTool(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    "chat_completion",
    {
      title: "Chat completion",
      description:
        "Ask a language model through the OpenAI-compatible gateway. Give `prompt` (with an optional `system`) " +
        "or a full `messages` conversation; returns the assistant's reply. Use list_models to see which models you may use.",
      inputSchema: chatCompletionInput,
      outputSchema: chatCompletionOutput,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    },
    async (args, extra) => {
      const { settings, gateway } = ctx.ready();
      const { messages, prompt, system, model, ...options } = args;
      const request: ChatRequest = {
        ...options,
        model: model ?? settings.defaultModel,
        messages: messages ?? promptMessages(prompt!, system),
      };
      const progress = progressReporter(extra);
      const answer = await gateway.chat(request, { signal: extra.signal, onText: progress?.update });
      progress?.finish();
      return {
        content: [{ type: "text", text: answer.content }],
        structuredContent: { ...answer },
      };
    },
  );
}

function promptMessages(prompt: string, system: string | undefined): ChatMessage[] {
  return [...(system ? [{ role: "system" as const, content: system }] : []), { role: "user", content: prompt }];
}
