/**
 * The rest of the OpenAI API as the fake upstream answers it, in the shapes OpenAI's API reference
 * shows: Responses (whole, or as its typed SSE events), legacy text completions (whole or streamed),
 * moderations and image generations. Words are tokens, as for chat, so tests can predict usage.
 */
import type { ServerResponse } from "node:http";
import { CREATED, pieces } from "./completions.ts";

const words = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** The text of a Responses `input`: a string, or the text parts of its items. */
function inputText(input: unknown): string {
  if (typeof input === "string") return input;
  if (!Array.isArray(input)) return "";
  return input
    .map((item) => {
      const c = (item as { content?: unknown })?.content;
      if (typeof c === "string") return c;
      if (Array.isArray(c)) return c.map((p) => (typeof p?.text === "string" ? p.text : "")).join(" ");
      return "";
    })
    .join(" ");
}

export function response(id: string, body: { model?: string; input?: unknown; instructions?: string }) {
  const input = inputText(body.input);
  const text = `echo: ${input}`;
  const inputTokens = words(input) + words(body.instructions ?? "");
  return {
    id,
    object: "response",
    created_at: CREATED,
    status: "completed",
    model: body.model ?? "gpt-4o-mini",
    output: [{ type: "message", id: `msg_${id}`, status: "completed", role: "assistant", content: [{ type: "output_text", text, annotations: [] }] }],
    usage: { input_tokens: inputTokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: pieces(text).length, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inputTokens + pieces(text).length },
  };
}

/** The Responses stream: `event: TYPE` and `data: {...}` per event, no [DONE]. */
export async function streamResponse(res: ServerResponse, id: string, body: { model?: string; input?: unknown }): Promise<void> {
  const whole = response(id, body);
  const text = whole.output[0]!.content[0]!.text;
  const started = { ...whole, status: "in_progress", output: [], usage: null };
  const item = { type: "message", id: `msg_${id}`, status: "in_progress", role: "assistant", content: [] };
  let seq = 0;
  const events: ({ type: string } & Record<string, unknown>)[] = [
    { type: "response.created", response: started },
    { type: "response.in_progress", response: started },
    { type: "response.output_item.added", output_index: 0, item },
    { type: "response.content_part.added", item_id: item.id, output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [] } },
    ...pieces(text).map((delta) => ({ type: "response.output_text.delta", item_id: item.id, output_index: 0, content_index: 0, delta })),
    { type: "response.output_text.done", item_id: item.id, output_index: 0, content_index: 0, text },
    { type: "response.content_part.done", item_id: item.id, output_index: 0, content_index: 0, part: whole.output[0]!.content[0] },
    { type: "response.output_item.done", output_index: 0, item: whole.output[0] },
    { type: "response.completed", response: whole },
  ];
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const e of events) {
    if (res.destroyed) return;
    const event = { ...e, sequence_number: seq++ };
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }
  res.end();
}

export function textCompletion(id: string, body: { model?: string; prompt?: unknown }) {
  const prompt = Array.isArray(body.prompt) ? body.prompt.join(" ") : String(body.prompt ?? "");
  const text = ` echo: ${prompt}`;
  return {
    id,
    object: "text_completion",
    created: CREATED,
    model: body.model ?? "gpt-3.5-turbo-instruct",
    choices: [{ text, index: 0, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: words(prompt), completion_tokens: pieces(text).length, total_tokens: words(prompt) + pieces(text).length },
  };
}

/** Text completion chunks (each a whole text_completion with a piece of the text), then usage when asked. */
export function textCompletionChunks(id: string, body: { model?: string; prompt?: unknown; stream_options?: { include_usage?: boolean } }): object[] {
  const whole = textCompletion(id, body);
  const parts = pieces(whole.choices[0]!.text);
  const base = { id, object: "text_completion", created: CREATED, model: whole.model };
  const chunks: object[] = parts.map((text, i) => ({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: i === parts.length - 1 ? "stop" : null }] }));
  if (body.stream_options?.include_usage === true) chunks.push({ ...base, choices: [], usage: whole.usage });
  return chunks;
}

export function moderation(id: string, body: { model?: string; input?: unknown }) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  return {
    id,
    model: body.model ?? "omni-moderation-latest",
    results: inputs.map((i) => {
      const flagged = /\bhate\b/i.test(typeof i === "string" ? i : JSON.stringify(i));
      return { flagged, categories: { hate: flagged, violence: false }, category_scores: { hate: flagged ? 0.97 : 0.001, violence: 0.001 } };
    }),
  };
}

// A 1x1 transparent PNG.
const PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

export function imageGeneration(body: { n?: number; prompt?: string }) {
  const n = typeof body.n === "number" && body.n > 0 ? body.n : 1;
  return {
    created: CREATED,
    data: Array.from({ length: n }, () => ({ b64_json: PIXEL, revised_prompt: body.prompt })),
    usage: { input_tokens: words(body.prompt ?? ""), output_tokens: 0, total_tokens: words(body.prompt ?? ""), input_tokens_details: { text_tokens: words(body.prompt ?? ""), image_tokens: 0 } },
  };
}
