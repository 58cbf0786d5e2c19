/**
 * The `messages` of chat_completion: one shape per role, as OpenAI's Chat Completions API takes
 * them, so that a whole tool exchange can be given: the assistant's turn with its `tool_calls`
 * (content null or absent), then one `tool` message per call naming the call it answers. Without
 * the assistant's tool_calls a tool message answers nothing, and the provider refuses it. Content
 * is text. A union discriminated by `role` lists as one JSON Schema object per role in tools/list,
 * which is what MCP clients and models read.
 */
import { z } from "zod";

const name = z.string().min(1).optional().describe("A name for the participant, to tell apart several of one role");

export const toolCall = z.object({
  id: z.string().min(1).describe("The call's id, as the model gave it; the tool message that answers it repeats it"),
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1).describe("The function the model called"),
    arguments: z.string().describe("The arguments as the model wrote them: JSON text"),
  }),
});

const assistantMessage = z
  .object({
    role: z.literal("assistant"),
    content: z.string().nullable().optional().describe("The reply's text; null or absent when the turn is only tool calls"),
    name,
    tool_calls: z.array(toolCall).min(1).optional().describe("The tools the model called in this turn"),
  })
  .refine((m) => (m.content !== undefined && m.content !== null) || m.tool_calls !== undefined, {
    message: "an assistant message needs `content` or `tool_calls`",
    path: ["content"],
  });

export const chatMessage = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: z.string(), name }),
  z.object({ role: z.literal("developer"), content: z.string(), name }),
  z.object({ role: z.literal("user"), content: z.string(), name }),
  assistantMessage,
  z.object({
    role: z.literal("tool"),
    content: z.string().describe("The tool's result"),
    tool_call_id: z.string().min(1).describe("The `id` of the assistant's tool call this answers"),
  }),
]);

export type ChatMessage = z.infer<typeof chatMessage>;
