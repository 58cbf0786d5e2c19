/**
 * The offline demo model: served in-process when no upstream is configured, so `npm start` on a
 * fresh machine shows the whole path (auth, routing, streaming, usage, metrics) working. It answers
 * deterministically and says plainly that it is a demo.
 */
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { DEMO_MODEL } from "../config/defaults.ts";
import { demoResponse, type DemoResponsesBody } from "./demo-responses.ts";
import { demoToolTurn } from "./demo-tools.ts";
import type { ProviderClient, UpstreamRequest, UpstreamResponse } from "./types.ts";

const CREATED = 1_735_689_600; // fixed, so answers are identical run to run
const WORD_DELAY_MS = 15; // slow enough for a person to see the stream arrive word by word

interface ChatBody {
  model?: string;
  messages?: { role?: string; content?: unknown; tool_calls?: unknown[] }[];
  tools?: Parameters<typeof demoToolTurn>[1];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  input?: unknown;
}

export function createDemoProvider(name: string): ProviderClient {
  let counter = 0;
  return {
    name,
    streamUsage: true,
    async send(req: UpstreamRequest): Promise<UpstreamResponse> {
      if (req.body !== undefined && typeof req.body !== "string" && !Buffer.isBuffer(req.body)) return notServed(req.path);
      const body: ChatBody = req.body ? JSON.parse(req.body.toString()) : {};
      if (req.path === "/models") {
        return json(200, { object: "list", data: [{ id: DEMO_MODEL, object: "model", created: CREATED, owned_by: "mcpgw-offline-demo" }] });
      }
      if (req.path === "/embeddings") return json(200, embeddings(body));
      if (req.path === "/responses") {
        const made = demoResponse(`resp_demo_${++counter}`, body as DemoResponsesBody, (messages) => answer({ messages }), req.signal);
        return made.json ? json(200, made.json) : { statusCode: 200, headers: { "content-type": "text/event-stream" }, body: made.stream! };
      }
      if (req.path !== "/chat/completions") return notServed(req.path);
      const id = `chatcmpl-demo-${++counter}`;
      const turn = demoToolTurn(body.messages ?? [], body.tools);
      if (turn && "call" in turn) return toolCall(id, turn.call, body);
      const text = turn?.text ?? answer(body);
      const usage = { prompt_tokens: countWords(JSON.stringify(body.messages ?? [])), completion_tokens: countWords(text), total_tokens: 0 };
      usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
      if (!body.stream) {
        return json(200, {
          id, object: "chat.completion", created: CREATED, model: DEMO_MODEL,
          choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: "stop" }],
          usage,
        });
      }
      return {
        statusCode: 200,
        headers: { "content-type": "text/event-stream" },
        body: Readable.from(streamEvents(id, text, body.stream_options?.include_usage === true ? usage : undefined, req.signal)),
      };
    },
  };
}

function notServed(path: string): UpstreamResponse {
  return json(404, { error: { message: `The offline demo does not serve ${path.replace(/\?.*$/, "")}.`, type: "not_found_error", param: null, code: null } });
}

/** The demo's call of a tool, whole or as a stream (the name first, then the arguments). */
function toolCall(id: string, call: { id: string; name: string; arguments: string }, body: ChatBody): UpstreamResponse {
  const usage = { prompt_tokens: countWords(JSON.stringify(body.messages ?? [])), completion_tokens: 1, total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + 1;
  const tool_calls = [{ id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } }];
  if (!body.stream) {
    return json(200, {
      id, object: "chat.completion", created: CREATED, model: DEMO_MODEL,
      choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls, refusal: null }, logprobs: null, finish_reason: "tool_calls" }],
      usage,
    });
  }
  const chunk = (delta: object, finish: string | null) =>
    event({ id, object: "chat.completion.chunk", created: CREATED, model: DEMO_MODEL, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const events = [
    chunk({ role: "assistant", content: null, tool_calls: [{ index: 0, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }, null),
    chunk({ tool_calls: [{ index: 0, function: { arguments: call.arguments } }] }, null),
    chunk({}, "tool_calls"),
    ...(body.stream_options?.include_usage === true ? [event({ id, object: "chat.completion.chunk", created: CREATED, model: DEMO_MODEL, choices: [], usage })] : []),
    Buffer.from("data: [DONE]\n\n"),
  ];
  return { statusCode: 200, headers: { "content-type": "text/event-stream" }, body: Readable.from(events) };
}

function answer(body: ChatBody): string {
  const last = [...(body.messages ?? [])].reverse().find((m) => m.role === "user");
  const said = typeof last?.content === "string" ? last.content : JSON.stringify(last?.content ?? "");
  return `[offline demo] mcpgw is running without an upstream key, so this is the built-in demo model answering. ` +
    `You said: "${said.slice(0, 200)}". Set OPENAI_API_KEY (or a config file) to reach a real model.`;
}

async function* streamEvents(id: string, text: string, usage: object | undefined, signal: AbortSignal) {
  const chunk = (delta: object, finish: string | null) =>
    event({ id, object: "chat.completion.chunk", created: CREATED, model: DEMO_MODEL, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  yield chunk({ role: "assistant", content: "" }, null);
  for (const word of text.match(/\S+\s*/g) ?? []) {
    await sleep(WORD_DELAY_MS, undefined, { signal });
    yield chunk({ content: word }, null);
  }
  yield chunk({}, "stop");
  if (usage) yield event({ id, object: "chat.completion.chunk", created: CREATED, model: DEMO_MODEL, choices: [], usage });
  yield Buffer.from("data: [DONE]\n\n");
}

function embeddings(body: ChatBody) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  return {
    object: "list",
    model: DEMO_MODEL,
    data: inputs.map((input, index) => ({ object: "embedding", index, embedding: vectorOf(String(input)) })),
    usage: { prompt_tokens: countWords(inputs.join(" ")), total_tokens: countWords(inputs.join(" ")) },
  };
}

/** A deterministic 8-dimensional unit vector from the text's characters. */
function vectorOf(text: string): number[] {
  const v = new Array<number>(8).fill(0);
  for (let i = 0; i < text.length; i++) v[i % 8]! += text.charCodeAt(i);
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

const countWords = (s: string) => (s.match(/\S+/g) ?? []).length;
const event = (data: object) => Buffer.from(`data: ${JSON.stringify(data)}\n\n`);
const json = (statusCode: number, data: object): UpstreamResponse => ({
  statusCode,
  headers: { "content-type": "application/json" },
  body: Readable.from([Buffer.from(JSON.stringify(data))]),
});
