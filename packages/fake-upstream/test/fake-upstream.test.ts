import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "../src/index.ts";

let up: FakeUpstream;
before(async () => (up = await startFakeUpstream()));
beforeEach(() => up.reset());
after(() => up.close());

const chat = (body: object, base = up.url) =>
  fetch(`${base}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o", messages: [{ role: "user", content: "hello there world" }], ...body }),
  });

/** The SSE payloads in order; "[DONE]" stays a string. */
async function events(res: Response): Promise<any[]> {
  const text = await res.text();
  return text
    .split("\n\n")
    .filter(Boolean)
    .map((e) => e.replace(/^data: /, ""))
    .map((d) => (d === "[DONE]" ? d : JSON.parse(d)));
}

test("non-streaming chat completion has OpenAI's shape and echoes the last message", async () => {
  const res = await chat({});
  assert.equal(res.status, 200);
  const message = { role: "assistant", content: "echo: hello there world", refusal: null };
  assert.deepEqual(await res.json(), {
    id: "chatcmpl-fake-1",
    object: "chat.completion",
    created: 1700000000,
    model: "gpt-4o",
    choices: [{ index: 0, message, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
  });
  assert.equal(up.requests[0]?.body.model, "gpt-4o");
  const json = (await (await chat({ response_format: { type: "json_object" } })).json()) as any;
  assert.deepEqual(JSON.parse(json.choices[0].message.content), { echo: "hello there world" });
});

test("streaming sends role, one chunk per word, finish, then [DONE]; usage only when asked", async () => {
  const plain = await events(await chat({ stream: true }));
  assert.equal(plain.length, 1 + 4 + 1 + 1); // role, 4 words, finish, [DONE]
  assert.equal(plain.at(-1), "[DONE]");
  assert.equal(plain.slice(0, -1).map((c) => c.choices[0].delta.content ?? "").join(""), "echo: hello there world");
  assert.equal(plain.at(-2).choices[0].finish_reason, "stop");
  assert.ok(plain.slice(0, -1).every((c) => !("usage" in c)));

  const withUsage = await events(await chat({ stream: true, stream_options: { include_usage: true } }));
  assert.equal(withUsage.length, 1 + 4 + 1 + 1 + 1);
  const usageChunk = withUsage.at(-2);
  assert.deepEqual(usageChunk.choices, []);
  assert.deepEqual(usageChunk.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
  assert.ok(withUsage.slice(0, -2).every((c) => c.usage === null));
});

test("enqueued 429 is used once, then the route is ok again", async () => {
  up.enqueue("/v1/chat/completions", { kind: "status", status: 429, headers: { "retry-after": "1" } });
  const limited = await chat({});
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "1");
  assert.equal(((await limited.json()) as any).error.code, "rate_limit_exceeded");
  assert.equal((await chat({})).status, 200);
  assert.equal((await chat({})).status, 200);
});

test("reset destroys the socket: fetch fails and the request is recorded as aborted", async () => {
  up.enqueue("/v1/chat/completions", { kind: "reset" });
  await assert.rejects(chat({}), TypeError);
  const req = up.requests[0]!;
  assert.equal(typeof (await up.waitForClose(req)), "number");
  assert.equal(req.aborted, true);
});

test("stream-cut sends N chunks then drops the connection", async () => {
  up.enqueue("/v1/chat/completions", { kind: "stream-cut", afterChunks: 2 });
  const res = await chat({ stream: true });
  await assert.rejects(res.text());
});

test("tool-call-stream streams argument deltas that concatenate to JSON", async () => {
  up.enqueue("/v1/chat/completions", { kind: "tool-call-stream" });
  const tools = [{ type: "function", function: { name: "lookup", parameters: {} } }];
  const chunks = (await events(await chat({ stream: true, tools }))).slice(0, -1);
  const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.equal(calls[0].id, "call_fake_1");
  assert.equal(calls[0].function.name, "lookup");
  assert.equal(calls.map((c) => c.function.arguments).join(""), '{"location":"Paris"}');
  assert.equal(chunks.at(-1).choices[0].finish_reason, "tool_calls");
});

test("models, embeddings, unknown routes, malformed JSON and auth", async () => {
  const models = (await (await fetch(`${up.url}/models`)).json()) as any;
  assert.deepEqual(models.data.map((m: { id: string }) => m.id), ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small"]);
  assert.equal((await fetch(`${up.url}/models/nope`)).status, 404);
  const post = (path: string, body: string, headers = {}) =>
    fetch(`${up.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  const emb = (await (await post("/embeddings", JSON.stringify({ input: ["a", "b"] }))).json()) as any;
  assert.equal(emb.data.length, 2);
  assert.equal(emb.data[1].embedding.length, 8);
  const again = (await (await post("/embeddings", JSON.stringify({ input: "b" }))).json()) as any;
  assert.deepEqual(again.data[0].embedding, emb.data[1].embedding);
  assert.equal((await post("/nope", "{}")).status, 404);
  const bad = await post("/chat/completions", "{not json");
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as any).error.type, "invalid_request_error");

  const locked = await startFakeUpstream({ apiKey: "sk-test" });
  try {
    assert.equal((await chat({}, locked.url)).status, 401);
    const res = await fetch(`${locked.url}/models`, { headers: { authorization: "Bearer sk-test" } });
    assert.equal(res.status, 200);
  } finally {
    await locked.close();
  }
});

test("hang holds the request until close(), which returns quickly", async () => {
  const own = await startFakeUpstream();
  own.enqueue("/v1/chat/completions", { kind: "hang" });
  const pending = chat({}, own.url);
  await own.waitForRequests(1);
  const started = performance.now();
  await own.close();
  assert.ok(performance.now() - started < 500, "close() should not wait for the hanging request");
  await assert.rejects(pending, TypeError);
  assert.equal(own.requests[0]!.aborted, true);
});

test("the scripted tool-calling model: parallel calls, several rounds, then the results; streamed alike; without tools it answers", async () => {
  const tools = [{ type: "function", function: { name: "a", parameters: { type: "object" } } }];
  const script = 'CALL a {"x": "one AND two"} AND b {} THEN CALL c {"n": 1}';
  const post = async (messages: object[], extra: object = {}) =>
    (await (await chat({ messages, tools, ...extra })).json()) as any;
  const user = { role: "user", content: script };
  const first = await post([user]);
  assert.equal(first.choices[0].finish_reason, "tool_calls");
  assert.deepEqual(first.choices[0].message.tool_calls.map((c: any) => [c.id, c.function.name, c.function.arguments]), [
    ["call_1_1", "a", '{"x": "one AND two"}'],
    ["call_1_2", "b", "{}"],
  ]);
  const round1 = [user, first.choices[0].message, { role: "tool", tool_call_id: "call_1_1", content: "r1" }, { role: "tool", tool_call_id: "call_1_2", content: "r2" }];
  const second = await post(round1);
  assert.deepEqual(second.choices[0].message.tool_calls.map((c: any) => c.function.name), ["c"]);
  const round2 = [...round1, second.choices[0].message, { role: "tool", tool_call_id: "call_2_1", content: "r3" }];
  const last = await post(round2);
  assert.equal(last.choices[0].message.content, "done: r1 | r2 | r3");
  // The same first turn streamed: argument pieces concatenate to the same arguments.
  const events = (await (await chat({ messages: [user], tools, stream: true })).text()).split("\n\n").filter((e) => e.startsWith("data: {"));
  const args: Record<number, string> = {};
  for (const e of events) for (const tc of JSON.parse(e.slice(6)).choices[0]?.delta?.tool_calls ?? []) args[tc.index] = (args[tc.index] ?? "") + (tc.function?.arguments ?? "");
  assert.deepEqual(args, { 0: '{"x": "one AND two"}', 1: "{}" });
  // LOOP never ends while tools are offered; asked without tools, any script answers in text.
  const loop = { role: "user", content: "LOOP a {}" };
  assert.equal((await post([loop, { role: "assistant", content: null, tool_calls: [{ id: "x", type: "function", function: { name: "a", arguments: "{}" } }] }, { role: "tool", tool_call_id: "x", content: "r" }])).choices[0].finish_reason, "tool_calls");
  assert.equal((await post([loop], { tools: undefined })).choices[0].message.content, "done: ");
});
