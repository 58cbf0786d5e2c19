/**
 * The Responses API's bodies, in the shapes OpenAI's API reference shows: a response whole (its
 * output an echo, a scripted text or scripted function calls) and the typed SSE events that stream
 * it. Words are tokens, as for chat, so tests can predict usage.
 */
import type { ServerResponse } from "node:http";
import { CREATED, pieces, splitArguments, textOf, wordCount as words } from "./completions.ts";
import { scriptedResponseTurn } from "./script.ts";

/** One input or output item; the fake reads only a few of its fields. */
export interface Item {
  type?: string;
  id?: string;
  role?: string;
  content?: unknown;
  output?: unknown;
  [field: string]: unknown;
}

/** The loose subset of a create request the fake reads or echoes. */
export interface ResponseRequest {
  model?: string;
  input?: unknown;
  instructions?: string;
  tools?: unknown[];
  previous_response_id?: string | null;
  background?: boolean;
  store?: boolean;
  stream?: boolean;
  [field: string]: unknown;
}

export type ResponseBody = ReturnType<typeof responseBody>;


/** The text of a Responses `input`: a string, or the text parts of its items. */
export function inputText(input: unknown): string {
  if (typeof input === "string") return input;
  if (!Array.isArray(input)) return "";
  return input.map((item) => textOf((item as Item)?.content)).join(" ");
}


/**
 * The answer to a create request. `conversation` is every item the model sees (a previous chain's
 * items, then this input); the script reads it, while the plain echo stays this request's input.
 */
export function createResponse(id: string, body: ResponseRequest, conversation: Item[]) {
  const turn = scriptedResponseTurn(conversation, body.tools);
  const inputTokens = words(inputText(conversation)) + words(body.instructions ?? "");
  if (turn && "calls" in turn) {
    const output = turn.calls.map((c) => ({
      // The script's call ids are call_<round>_<i>; the item ids follow them as OpenAI's fc_ ids do.
      type: "function_call", id: `fc_${c.id.slice("call_".length)}`, call_id: c.id, name: c.name, arguments: c.arguments, status: "completed",
    }));
    return responseBody(id, body, output, usage(inputTokens, turn.calls.length));
  }
  const text = turn ? turn.text : `echo: ${inputText(body.input)}`;
  const message = { type: "message", id: `msg_${id}`, status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] };
  return responseBody(id, body, [message], usage(inputTokens, pieces(text).length));
}

const usage = (input: number, output: number) => ({
  input_tokens: input, input_tokens_details: { cached_tokens: 0 },
  output_tokens: output, output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: input + output,
});

type Usage = ReturnType<typeof usage>;

/** The response object with the request's settings echoed, as OpenAI echoes them. */
function responseBody(id: string, body: ResponseRequest, output: Item[], tokens: Usage | null, status = "completed") {
  return {
    id,
    object: "response",
    created_at: CREATED,
    status,
    background: body.background === true,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    metadata: body.metadata ?? {},
    model: body.model ?? "gpt-4o-mini",
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    store: body.store !== false,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: body.top_p ?? 1,
    truncation: body.truncation ?? "disabled",
    usage: tokens,
  };
}

/** The same response before it has any output: what response.created and a background create show. */
export const inProgress = (whole: ResponseBody) => ({ ...whole, status: "in_progress", output: [], usage: null });

type Event = { type: string } & Record<string, unknown>;

/** The events that stream `whole`, in OpenAI's order, without their sequence numbers. */
export function responseEvents(whole: ResponseBody): Event[] {
  const started = inProgress(whole);
  return [
    { type: "response.created", response: started },
    { type: "response.in_progress", response: started },
    ...whole.output.flatMap((item, i) => itemEvents(item, i)),
    { type: "response.completed", response: whole },
  ];
}

function itemEvents(item: Item, output_index: number): Event[] {
  const item_id = item.id;
  if (item.type === "function_call") {
    const args = String(item.arguments);
    return [
      { type: "response.output_item.added", output_index, item: { ...item, arguments: "", status: "in_progress" } },
      // Split mid-token on purpose: clients must concatenate the deltas, not parse each one.
      ...splitArguments(args).map((delta) => ({ type: "response.function_call_arguments.delta", item_id, output_index, delta })),
      { type: "response.function_call_arguments.done", item_id, output_index, arguments: args },
      { type: "response.output_item.done", output_index, item },
    ];
  }
  const part = (item.content as { text: string }[])[0]!;
  const at = { item_id, output_index, content_index: 0 };
  return [
    { type: "response.output_item.added", output_index, item: { ...item, status: "in_progress", content: [] } },
    { type: "response.content_part.added", ...at, part: { ...part, text: "" } },
    ...pieces(part.text).map((delta) => ({ type: "response.output_text.delta", ...at, delta })),
    { type: "response.output_text.done", ...at, text: part.text },
    { type: "response.content_part.done", ...at, part },
    { type: "response.output_item.done", output_index, item },
  ];
}

/** The Responses stream: `event: TYPE` and `data: {...}` per event, numbered, no [DONE]. */
export function streamResponse(res: ServerResponse, events: Event[]): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const [sequence_number, e] of events.entries()) {
    if (res.destroyed) return;
    res.write(`event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number })}\n\n`);
  }
  res.end();
}
