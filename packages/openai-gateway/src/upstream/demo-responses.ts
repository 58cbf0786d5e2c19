/**
 * The offline demo's Responses API (POST /responses), so `npm start` answers the clients that speak
 * only it (the Vercel AI SDK's default provider, coding agents) and shows the gateway's MCP tools
 * there too. The request is read as the chat conversation it stands for and answered by the same
 * deterministic demo as chat: a message, or a call of a function tool the user named. Nothing is
 * stored: the demo has no response to retrieve later.
 */
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { DEMO_MODEL } from "../config/defaults.ts";
import { demoToolTurn, textOf } from "./demo-tools.ts";

interface Item {
  type?: string;
  role?: string;
  content?: unknown;
  call_id?: string;
  name?: string;
  arguments?: string;
  output?: unknown;
}

export interface DemoResponsesBody {
  input?: unknown;
  tools?: { type?: string; name?: string; parameters?: unknown }[];
  stream?: boolean;
}

type Message = { role: string; content?: unknown; tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[] };

const CREATED = 1_735_689_600;
const WORD_DELAY_MS = 15;

/** The conversation a Responses input stands for, as chat messages (what the demo reads). */
function asMessages(input: unknown): Message[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  const messages: Message[] = [];
  for (const item of Array.isArray(input) ? (input as Item[]) : []) {
    if (item.type === "function_call") {
      const call = { id: item.call_id ?? "", type: "function" as const, function: { name: item.name ?? "", arguments: item.arguments ?? "" } };
      const last = messages.at(-1);
      if (last?.role === "assistant" && last.tool_calls) last.tool_calls.push(call);
      else messages.push({ role: "assistant", content: null, tool_calls: [call] });
    } else if (item.type === "function_call_output") messages.push({ role: "tool", content: typeof item.output === "string" ? item.output : JSON.stringify(item.output ?? "") });
    else if (item.role) messages.push({ role: item.role, content: textOf(item.content) });
  }
  return messages;
}

export function demoResponse(id: string, body: DemoResponsesBody, answer: (messages: Message[]) => string, signal: AbortSignal): { json?: object; stream?: Readable } {
  const messages = asMessages(body.input);
  const tools = (body.tools ?? []).filter((t) => t.type === "function" && t.name).map((t) => ({ function: { name: t.name, parameters: t.parameters as never } }));
  const turn = demoToolTurn(messages, tools);
  const words = (s: string) => (s.match(/\S+/g) ?? []).length;
  const inputTokens = words(JSON.stringify(body.input ?? ""));
  const base = { id, object: "response", created_at: CREATED, model: DEMO_MODEL, store: false, tools: body.tools ?? [] };
  let item: Record<string, unknown>;
  let text: string | undefined;
  if (turn && "call" in turn) {
    item = { type: "function_call", id: `fc_${id}`, call_id: turn.call.id, name: turn.call.name, arguments: turn.call.arguments, status: "completed" };
  } else {
    text = turn?.text ?? answer(messages);
    item = { type: "message", id: `msg_${id}`, status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] };
  }
  const outputTokens = text === undefined ? 1 : words(text);
  const whole = { ...base, status: "completed", output: [item], usage: { input_tokens: inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: outputTokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + outputTokens } };
  if (!body.stream) return { json: whole };
  return { stream: Readable.from(events(whole, item, text, signal)) };
}

async function* events(whole: { output: unknown[] } & Record<string, unknown>, item: Record<string, unknown>, text: string | undefined, signal: AbortSignal) {
  let seq = 0;
  const event = (e: { type: string } & Record<string, unknown>) => Buffer.from(`event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: seq++ })}\n\n`);
  const started = { ...whole, status: "in_progress", output: [], usage: null };
  yield event({ type: "response.created", response: started });
  yield event({ type: "response.in_progress", response: started });
  if (text === undefined) {
    yield event({ type: "response.output_item.added", output_index: 0, item: { ...item, arguments: "" } });
    yield event({ type: "response.function_call_arguments.delta", item_id: item.id, output_index: 0, delta: item.arguments });
    yield event({ type: "response.function_call_arguments.done", item_id: item.id, output_index: 0, arguments: item.arguments });
  } else {
    yield event({ type: "response.output_item.added", output_index: 0, item: { ...item, status: "in_progress", content: [] } });
    yield event({ type: "response.content_part.added", item_id: item.id, output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
    for (const delta of text.match(/\S+\s*/g) ?? []) {
      await sleep(WORD_DELAY_MS, undefined, { signal });
      yield event({ type: "response.output_text.delta", item_id: item.id, output_index: 0, content_index: 0, delta });
    }
    yield event({ type: "response.output_text.done", item_id: item.id, output_index: 0, content_index: 0, text });
    yield event({ type: "response.content_part.done", item_id: item.id, output_index: 0, content_index: 0, part: { type: "output_text", text, annotations: [] } });
  }
  yield event({ type: "response.output_item.done", output_index: 0, item });
  yield event({ type: "response.completed", response: whole });
}
