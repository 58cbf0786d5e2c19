/**
 * The benchmarks' upstream: a static OpenAI-compatible server whose every answer is built once at
 * start, so it is never the bottleneck. Run as its own process (pinned by the harness):
 *
 *   node static-upstream.ts --port 0 --api-key KEY      # prints "listening on http://127.0.0.1:PORT"
 *
 * The model name picks the behaviour, because it is the one field every contestant passes through:
 * - any model: a ~850-byte chat.completion with usage, or with `"stream":true` an SSE of
 *   STREAM_CHUNKS small chunks written back to back (plus a usage chunk when asked), then [DONE];
 * - `bench-paced`: the same stream with PACED_INTERVAL_MS between chunks (to see coalescing);
 * - `bench-short`: one content chunk at once, the last one PACED_INTERVAL_MS later (first-chunk latency);
 * - `bench-hold`: one chunk, then the stream stays open until the client goes (memory scenario).
 * - `bench-answer-<1k|16k>-<length|chunked>` (non-streaming): an answer of that size, with a
 *   content-length or chunked in several writes (traffic-shapes scenario, shaped-answers.ts).
 * - `bench-tool` (non-streaming): a call of the first offered tool while the last message is the
 *   user's, the plain chat.completion once a tool result is last (tool-loop scenario).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { PACED_INTERVAL_MS, STREAM_CHUNKS } from "./constants.ts";
import { sendShapedAnswer } from "./shaped-answers.ts";

const HOLD_MAX_MS = 180_000;

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, "api-key": { type: "string", default: "bench-upstream-key" } } });
const expectedAuth = `Bearer ${values["api-key"]}`;

const created = 1_763_800_000;
const completion = Buffer.from(
  JSON.stringify({
    id: "chatcmpl-bench0000000000000000000000000",
    object: "chat.completion",
    created,
    model: "bench",
    system_fingerprint: "fp_bench00000",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content:
            "A gateway adds a hop between a client and the model: it checks the client's key, picks an upstream, forwards the request and relays the answer. Done well, that hop costs well under a millisecond; done badly, it buffers streams and queues requests. This answer is padded to roughly the size of a short real completion so that body handling costs what it would cost in production, no more and no less. Gateways are judged on that hop.",
          refusal: null,
        },
        logprobs: null,
        finish_reason: "stop",
      },
    ],
    usage: { prompt_tokens: 24, completion_tokens: 96, total_tokens: 120 },
  }),
);
const chunkJson = (delta: object, finish: string | null, usage?: object) =>
  `data: ${JSON.stringify({
    id: "chatcmpl-bench0000000000000000000000000",
    object: "chat.completion.chunk",
    created,
    model: "bench",
    choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }],
    ...(usage ? { usage } : {}),
  })}\n\n`;
const streamChunks: Buffer[] = [];
for (let i = 0; i < STREAM_CHUNKS; i++) {
  const delta = i === 0 ? { role: "assistant", content: "" } : { content: ` w${i}` };
  streamChunks.push(Buffer.from(chunkJson(delta, i === STREAM_CHUNKS - 1 ? "stop" : null)));
}
const usageChunk = Buffer.from(chunkJson({}, null, { prompt_tokens: 24, completion_tokens: STREAM_CHUNKS, total_tokens: STREAM_CHUNKS + 24 }));
const done = Buffer.from("data: [DONE]\n\n");
const models = Buffer.from(JSON.stringify({ object: "list", data: [{ id: "bench", object: "model", created, owned_by: "bench" }] }));
const unauthorized = Buffer.from(JSON.stringify({ error: { message: "Incorrect API key provided", type: "invalid_request_error", param: null, code: "invalid_api_key" } }));
const notFound = Buffer.from(JSON.stringify({ error: { message: "not found", type: "invalid_request_error", param: null, code: null } }));

function sendJson(res: ServerResponse, status: number, body: Buffer) {
  res.writeHead(status, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}

function handle(req: IncomingMessage, res: ServerResponse, body: string) {
  if (req.headers.authorization !== expectedAuth) return sendJson(res, 401, unauthorized);
  if (req.method === "GET" && req.url?.startsWith("/v1/models")) return sendJson(res, 200, models);
  if (req.method !== "POST" || !req.url?.startsWith("/v1/chat/completions")) return sendJson(res, 404, notFound);
  if (!/"stream"\s*:\s*true/.test(body) && /"model"\s*:\s*"bench-tool"/.test(body)) return sendJson(res, 200, toolTurn(body));
  if (!/"stream"\s*:\s*true/.test(body) && sendShapedAnswer(res, body)) return;
  if (!/"stream"\s*:\s*true/.test(body)) return sendJson(res, 200, completion);
  const model = /"model"\s*:\s*"([^"]*)"/.exec(body)?.[1] ?? "";
  const withUsage = /"include_usage"\s*:\s*true/.test(body);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  if (model === "bench-hold") return hold(res);
  if (model === "bench-paced") return paced(res, withUsage);
  if (model === "bench-short") return short(res, withUsage);
  for (const c of streamChunks) res.write(c);
  if (withUsage) res.write(usageChunk);
  res.end(done);
}

/** `bench-tool`'s answer: each required argument of the first offered tool is the string "bench". */
function toolTurn(body: string): Buffer {
  const req = JSON.parse(body) as { messages?: Array<{ role?: string }>; tools?: Array<{ function?: { name?: string; parameters?: { required?: string[] } } }> };
  const tool = req.tools?.[0]?.function;
  if (req.messages?.at(-1)?.role !== "user" || !tool?.name) return completion;
  const args = Object.fromEntries((tool.parameters?.required ?? []).map((k) => [k, "bench"]));
  const call = { id: "call_bench000000000000000001", type: "function", function: { name: tool.name, arguments: JSON.stringify(args) } };
  return Buffer.from(
    JSON.stringify({
      id: "chatcmpl-bench0000000000000000000000001",
      object: "chat.completion",
      created,
      model: "bench-tool",
      choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [call], refusal: null }, logprobs: null, finish_reason: "tool_calls" }],
      usage: { prompt_tokens: 40, completion_tokens: 12, total_tokens: 52 },
    }),
  );
}

function paced(res: ServerResponse, withUsage: boolean) {
  // The first chunk at once, like the headers: time to first chunk then measures the relay, not
  // how a contestant's core wakes from idle while an upstream thinks.
  res.write(streamChunks[0]);
  let i = 1;
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    res.write(streamChunks[i++]);
    if (i < STREAM_CHUNKS) return;
    clearInterval(timer);
    if (withUsage) res.write(usageChunk);
    res.end(done);
  }, PACED_INTERVAL_MS);
}

function short(res: ServerResponse, withUsage: boolean) {
  res.write(streamChunks[0]);
  setTimeout(() => {
    res.write(streamChunks[STREAM_CHUNKS - 1]);
    if (withUsage) res.write(usageChunk);
    res.end(done);
  }, PACED_INTERVAL_MS);
}

function hold(res: ServerResponse) {
  res.write(streamChunks[0]);
  // A chunk now and then, as a slow model would send: the stream is alive, not stalled.
  const timer = setInterval(() => res.write(streamChunks[1]), 5000);
  const end = setTimeout(() => res.end(done), HOLD_MAX_MS);
  res.once("close", () => {
    clearInterval(timer);
    clearTimeout(end);
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (c: Buffer) => parts.push(c));
  req.on("end", () => handle(req, res, Buffer.concat(parts).toString("latin1")));
});
server.maxRequestsPerSocket = 0;
server.listen(Number(values.port), "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
