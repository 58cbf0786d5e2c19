/**
 * Canned OpenAI bodies. Every value is derived from the request alone (no clocks, no randomness)
 * so that tests and benchmarks can assert exact bodies and byte counts.
 */
export const CREATED = 1700000000;
export const DEFAULT_MODELS = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"];

/** The loose subset of a chat request the fake reads; everything else is ignored. */
import type { ScriptedTurn } from "./script.ts";

export interface ChatRequest {
  model?: string;
  messages: { content?: unknown }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  response_format?: { type?: string };
  tools?: { function?: { name?: string } }[];
}

export const model = (id: string) => ({ id, object: "model", created: CREATED, owned_by: "fake-upstream" });
export const modelList = (ids: string[]) => ({ object: "list", data: ids.map(model) });

/** A message's text: a string, or its text parts joined. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  // Content-part arrays: only text parts carry words.
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === "string" ? p.text : "")).join(" ");
  return "";
}

// "Tokens" are words: rough, but deterministic and easy to predict in a test.
export const wordCount = (text: string) => text.split(/\s+/).filter(Boolean).length;

/** The text split into stream pieces: one per word, each keeping the whitespace after it. */
export function pieces(text: string): string[] {
  return text.match(/\s*\S+\s*/g) ?? (text ? [text] : []);
}

/** "echo: <last message>", or that text as a JSON object when the request asks for JSON output. */
export function replyText(req: ChatRequest): string {
  const text = textOf(req.messages.at(-1)?.content);
  const type = req.response_format?.type;
  return type === "json_object" || type === "json_schema" ? JSON.stringify({ echo: text }) : `echo: ${text}`;
}

function usage(req: ChatRequest, completionTokens: number) {
  const prompt = req.messages.reduce((n, m) => n + wordCount(textOf(m?.content)), 0);
  return { prompt_tokens: prompt, completion_tokens: completionTokens, total_tokens: prompt + completionTokens };
}

const modelOf = (req: { model?: string }, fallback = "gpt-4o-mini") =>
  typeof req.model === "string" ? req.model : fallback;

export function chatCompletion(id: string, req: ChatRequest) {
  const content = replyText(req);
  return {
    id, object: "chat.completion", created: CREATED, model: modelOf(req),
    choices: [
      { index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" },
    ],
    usage: usage(req, pieces(content).length),
  };
}

/** Deltas, then a finish chunk, then a usage chunk if asked: the stream without its [DONE]. */
function streamOf(id: string, req: ChatRequest, deltas: object[], finish: string, completionTokens: number) {
  const includeUsage = req.stream_options?.include_usage === true;
  const base = { id, object: "chat.completion.chunk", created: CREATED, model: modelOf(req) };
  const chunk = (delta: object, finish_reason: string | null) => ({
    ...base,
    choices: [{ index: 0, delta, logprobs: null, finish_reason }],
    // OpenAI puts usage: null on every chunk once include_usage is on, and omits it otherwise.
    ...(includeUsage ? { usage: null } : {}),
  });
  const chunks: object[] = [...deltas.map((d) => chunk(d, null)), chunk({}, finish)];
  if (includeUsage) chunks.push({ ...base, choices: [], usage: usage(req, completionTokens) });
  return chunks;
}

export function chatChunks(id: string, req: ChatRequest, content = replyText(req)): object[] {
  const parts = pieces(content);
  const deltas = [{ role: "assistant", content: "" }, ...parts.map((p) => ({ content: p }))];
  return streamOf(id, req, deltas, "stop", parts.length);
}

// Split mid-token on purpose: clients must concatenate argument deltas, not parse each one.
export const TOOL_ARGUMENT_PIECES = ['{"loc', 'ation"', ':"Par', 'is"}'];

/** A scripted model's turn, whole: its tool calls (finish_reason tool_calls), or its text. */
export function scriptedCompletion(id: string, req: ChatRequest, turn: ScriptedTurn) {
  if ("text" in turn) return { ...chatCompletion(id, req), choices: [textChoice(turn.text)], usage: usage(req, pieces(turn.text).length) };
  const tool_calls = turn.calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
  const message = { role: "assistant", content: null, tool_calls, refusal: null };
  return {
    id, object: "chat.completion", created: CREATED, model: modelOf(req),
    choices: [{ index: 0, message, logprobs: null, finish_reason: "tool_calls" }],
    usage: usage(req, turn.calls.length),
  };
}

/** The same turn as a stream: each call's id and name first, then its arguments in pieces split mid-token. */
export function scriptedChunks(id: string, req: ChatRequest, turn: ScriptedTurn): object[] {
  if ("text" in turn) return chatChunks(id, req, turn.text);
  const heads = turn.calls.map((c, index) => ({ tool_calls: [{ index, id: c.id, type: "function", function: { name: c.name, arguments: "" } }] }));
  const args = turn.calls.flatMap((c, index) => splitArguments(c.arguments).map((a) => ({ tool_calls: [{ index, function: { arguments: a } }] })));
  return streamOf(id, req, [{ role: "assistant", content: null }, ...heads, ...args], "tool_calls", turn.calls.length);
}

/** Arguments in three pieces split mid-token, as a model streams them. */
export function splitArguments(json: string): string[] {
  if (json.length < 4) return [json];
  const third = Math.ceil(json.length / 3);
  return [json.slice(0, third), json.slice(third, 2 * third), json.slice(2 * third)];
}

const textChoice = (content: string) => ({ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" });

export function toolCallChunks(id: string, req: ChatRequest): object[] {
  const name = req.tools?.[0]?.function?.name ?? "get_weather";
  const first = { index: 0, id: "call_fake_1", type: "function", function: { name, arguments: "" } };
  const deltas = [
    { role: "assistant", content: null, tool_calls: [first] },
    ...TOOL_ARGUMENT_PIECES.map((args) => ({ tool_calls: [{ index: 0, function: { arguments: args } }] })),
  ];
  return streamOf(id, req, deltas, "tool_calls", TOOL_ARGUMENT_PIECES.length);
}

export function embeddings(req: { model?: string; input: unknown }) {
  const inputs: unknown[] = Array.isArray(req.input) ? req.input : [req.input];
  const texts = inputs.map((i) => (typeof i === "string" ? i : JSON.stringify(i)));
  const tokens = texts.reduce((n, t) => n + wordCount(t), 0);
  return {
    object: "list",
    data: texts.map((t, index) => ({ object: "embedding", index, embedding: vector(t) })),
    model: modelOf(req, "text-embedding-3-small"),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** Eight floats in [-1, 1) from an FNV-1a hash of the text: the same text always gets the same vector. */
function vector(text: string): number[] {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return Array.from({ length: 8 }, (_, i) => {
    h = Math.imul(h ^ (i + 0x9e), 0x01000193);
    return Math.round(((h >>> 0) / 2 ** 31 - 1) * 1e6) / 1e6;
  });
}
