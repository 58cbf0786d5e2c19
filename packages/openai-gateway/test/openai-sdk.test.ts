/**
 * The official openai SDK as the client, the built gateway as a real process, fake upstreams as
 * the providers: what a user of the SDK sees, and what the provider receives.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, beforeEach, test } from "node:test";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { configFor, startGateway, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "upstream-secret-0123456789";
const FULL_KEY = "client-full-key";
const NARROW_KEY = "client-narrow-key";
const METERED_KEY = "client-metered-key";
const MAX_ATTEMPTS = 3;
const TIMEOUT = { timeout: 15_000 };

const MESSAGES = [{ role: "user" as const, content: "hello there world" }];
const ECHO = "echo: hello there world";
// Model ids may hold a slash (OpenRouter-style), and in principle any character.
const UPSTREAM_MODELS = ["gpt-4o-mini", "gpt-4o", "text-embedding-3-small", "meta-llama/llama-3.1-8b"];

let upstream: FakeUpstream; // provider "fake": passthrough, and the target of every alias that works
let flaky: FakeUpstream; // provider "flaky": the first target of the fallback alias
let gateway: GatewayProcess;

before(async () => {
  upstream = await startFakeUpstream({ models: [...UPSTREAM_MODELS] });
  flaky = await startFakeUpstream();
  gateway = await startGateway({
    env: { UPSTREAM_KEY, FULL_KEY, METERED_KEY },
    config: configFor(upstream.url, {
      providers: {
        fake: { type: "openai", baseUrl: upstream.url, apiKey: "${UPSTREAM_KEY}" },
        flaky: { type: "openai", baseUrl: flaky.url },
      },
      models: {
        "chat-small": "fake/gpt-4o-mini",
        embed: { provider: "fake", model: "text-embedding-3-small" },
        resilient: ["flaky/gpt-4o", "fake/gpt-4o-mini"],
      },
      clients: [
        { name: "full", keyEnv: "FULL_KEY", models: ["*"] },
        { name: "narrow", keyHash: createHash("sha256").update(NARROW_KEY).digest("hex"), models: ["chat-small"] },
        { name: "metered", keyEnv: "METERED_KEY", models: ["*"] },
      ],
      retry: { maxAttempts: MAX_ATTEMPTS, baseDelayMs: 5, maxDelayMs: 20 },
    }),
  });
});
beforeEach(() => {
  upstream.reset();
  flaky.reset();
});
after(async () => {
  await gateway?.stop();
  await upstream?.close();
  await flaky?.close();
});

const sdk = (apiKey: string) => new OpenAI({ baseURL: gateway.baseURL, apiKey, maxRetries: 0, timeout: 10_000 });

/** The SSE payloads of a raw response, without the final [DONE]. */
async function sseEvents(res: Response): Promise<any[]> {
  const text = await res.text();
  assert.match(text, /data: \[DONE\]\n\n$/);
  return text
    .split("\n\n")
    .filter((e) => e && e !== "data: [DONE]")
    .map((e) => JSON.parse(e.replace(/^data: /, "")));
}

/** Sends a request the gateway forwarded straight to the fake, to see what the upstream itself streams for it. */
async function upstreamStreamFor(body: unknown): Promise<any[]> {
  const res = await fetch(`${upstream.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return sseEvents(res);
}

async function metricsText(): Promise<string> {
  const res = await fetch(`${gateway.origin}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

/** Sum of the samples of `name` whose labels include all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

const ids = (models: { id: string }[]) => models.map((m) => m.id).sort();

test("models.list shows a restricted key only its alias, and a '*' key the aliases plus the upstream's list", TIMEOUT, async () => {
  const narrow = [];
  for await (const m of sdk(NARROW_KEY).models.list()) narrow.push(m);
  assert.deepEqual(ids(narrow), ["chat-small"]);

  const full = [];
  for await (const m of sdk(FULL_KEY).models.list()) full.push(m);
  assert.deepEqual(ids(full), ["chat-small", "embed", "resilient", ...UPSTREAM_MODELS].sort());
  assert.equal(full.find((m) => m.id === "chat-small")?.owned_by, "fake");
  assert.equal(full.find((m) => m.id === "gpt-4o")?.owned_by, "fake-upstream");
});

test("models.retrieve: an allowed model is found; a forbidden one is a 404 exactly like a nonexistent one", TIMEOUT, async () => {
  const found = await sdk(NARROW_KEY).models.retrieve("chat-small");
  assert.equal(found.id, "chat-small");
  assert.equal(found.object, "model");
  // gpt-4o exists (a '*' key sees it) ...
  assert.equal((await sdk(FULL_KEY).models.retrieve("gpt-4o")).id, "gpt-4o");

  const failure = async (key: string, id: string) => {
    const err = await sdk(key).models.retrieve(id).then(
      () => assert.fail(`retrieve ${id} should fail`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.NotFoundError, `expected NotFoundError, got ${String(err)}`);
    return { status: err.status, type: err.type, code: err.code, param: err.param, message: err.message.replace(id, "<id>") };
  };
  // ... yet to the restricted key it looks like a model that does not exist anywhere.
  const forbidden = await failure(NARROW_KEY, "gpt-4o");
  assert.equal(forbidden.status, 404);
  assert.deepEqual(forbidden, await failure(FULL_KEY, "no-such-model"));
  assert.deepEqual(forbidden, await failure(NARROW_KEY, "no-such-model"));
  // Ids travel percent-encoded in the path: a slash or a '%' in an id is still just a name.
  assert.equal((await sdk(FULL_KEY).models.retrieve("meta-llama/llama-3.1-8b")).id, "meta-llama/llama-3.1-8b");
  assert.deepEqual(await failure(FULL_KEY, "50%off"), forbidden);
  // A malformed path (no SDK sends one) still gets an OpenAI error body, not the web framework's own.
  const bad = await fetch(`${gateway.baseURL}/models/%E0%A4%A`, { headers: { authorization: `Bearer ${FULL_KEY}` } });
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { error: Record<string, unknown> };
  assert.equal(body.error.type, "invalid_request_error");
  assert.equal(typeof body.error.message, "string");

  const chatErr = await sdk(NARROW_KEY).chat.completions.create({ model: "gpt-4o", messages: MESSAGES }).catch((e: unknown) => e);
  assert.ok(chatErr instanceof OpenAI.NotFoundError);
  assert.equal(upstream.requests.filter((r) => r.path === "/v1/chat/completions").length, 0);
});

test("chat: answer, usage and alias rewrite; unknown fields reach the upstream untouched; keys stay apart", TIMEOUT, async () => {
  const request = {
    model: "chat-small",
    messages: MESSAGES,
    tools: [
      {
        type: "function" as const,
        function: { name: "get_weather", description: "Weather now", parameters: { type: "object", properties: { location: { type: "string" } } } },
      },
    ],
    tool_choice: "none" as const,
    response_format: { type: "text" as const },
    logprobs: true,
    top_logprobs: 2,
    reasoning_effort: "low" as const,
    metadata: { team: "search", ticket: "T-1" },
    temperature: 0.25,
  };
  const completion = await sdk(FULL_KEY).chat.completions.create(request);
  assert.equal(completion.choices[0]?.message.content, ECHO);
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.deepEqual(completion.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });

  assert.equal(upstream.requests.length, 1);
  const received = upstream.requests[0]!;
  assert.equal(received.path, "/v1/chat/completions");
  assert.deepEqual(received.body, { ...request, model: "gpt-4o-mini" });
  assert.equal(received.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  assert.ok(!received.rawBody.includes(FULL_KEY) && !JSON.stringify(received.headers).includes(FULL_KEY));
});

test("chat streaming: same text as non-streaming, one client chunk per upstream chunk, usage hidden unless asked", TIMEOUT, async () => {
  const client = sdk(FULL_KEY);
  const whole = await client.chat.completions.create({ model: "chat-small", messages: MESSAGES });
  const text = whole.choices[0]?.message.content;
  assert.equal(text, ECHO);

  const chunks = [];
  for await (const chunk of await client.chat.completions.create({ model: "chat-small", messages: MESSAGES, stream: true })) {
    chunks.push(chunk);
  }
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), text);
  assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "stop");
  // The gateway asked the upstream for usage (to count tokens) but the client did not: no usage for it.
  const forwarded = upstream.requests[1]!.body;
  assert.equal(forwarded.stream, true);
  assert.equal(forwarded.stream_options?.include_usage, true);
  assert.ok(chunks.every((c) => c.choices.length > 0 && !c.usage), "the client got a usage chunk it did not ask for");

  // What the upstream streams for exactly that request: every chunk with choices reaches the client, one for one.
  const sent = await upstreamStreamFor(forwarded);
  const sentWithChoices = sent.filter((c) => c.choices.length > 0);
  assert.ok(sent.some((c) => c.usage?.completion_tokens === 4), "the upstream did send usage");
  assert.equal(chunks.length, sentWithChoices.length);
  const contentOf = (c: any) => c.choices[0]?.delta?.content ?? "";
  assert.deepEqual(chunks.map(contentOf), sentWithChoices.map(contentOf));

  const asked = [];
  const stream = await client.chat.completions.create({
    model: "chat-small",
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream) asked.push(chunk);
  assert.equal(asked.map((c) => c.choices[0]?.delta.content ?? "").join(""), text);
  const last = asked.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 });
});

test("tool-call streaming: id, name and argument deltas arrive intact", TIMEOUT, async () => {
  upstream.enqueue("/v1/chat/completions", { kind: "tool-call-stream" });
  const stream = await sdk(FULL_KEY).chat.completions.create({
    model: "chat-small",
    messages: [{ role: "user", content: "Weather in Paris?" }],
    tools: [{ type: "function", function: { name: "lookup_weather", parameters: { type: "object", properties: {} } } }],
    stream: true,
  });
  let id = "";
  let name = "";
  let args = "";
  let finish: string | null = null;
  let argumentDeltas = 0;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (!choice) continue;
    for (const call of choice.delta.tool_calls ?? []) {
      assert.equal(call.index, 0);
      id += call.id ?? "";
      name += call.function?.name ?? "";
      if (call.function?.arguments) argumentDeltas++;
      args += call.function?.arguments ?? "";
    }
    finish = choice.finish_reason ?? finish;
  }
  assert.equal(id, "call_fake_1");
  assert.equal(name, "lookup_weather");
  assert.ok(argumentDeltas > 1, "the arguments should arrive in several deltas");
  assert.deepEqual(JSON.parse(args), { location: "Paris" });
  assert.equal(finish, "tool_calls");
});

test("embeddings: one vector per input, through the alias", TIMEOUT, async () => {
  const inputs = ["first text", "second text", "third"];
  const res = await sdk(FULL_KEY).embeddings.create({ model: "embed", input: inputs });
  assert.equal(res.data.length, inputs.length);
  assert.deepEqual(res.data.map((d) => d.index), [0, 1, 2]);
  for (const d of res.data) {
    assert.equal(d.embedding.length, 8);
    assert.ok(d.embedding.every((x) => typeof x === "number" && Number.isFinite(x)));
  }
  assert.notDeepEqual(res.data[0]!.embedding, res.data[1]!.embedding);
  assert.equal(res.usage.prompt_tokens, 5);
  assert.equal(upstream.requests[0]?.path, "/v1/embeddings");
  assert.equal(upstream.requests[0]?.body.model, "text-embedding-3-small");
  assert.deepEqual(upstream.requests[0]?.body.input, inputs);
});

test("alias fallback: the first target always answers 500, the answer comes from the second", TIMEOUT, async () => {
  flaky.setDefault("/v1/chat/completions", { kind: "status", status: 500 });
  const completion = await sdk(FULL_KEY).chat.completions.create({ model: "resilient", messages: MESSAGES });
  assert.equal(completion.choices[0]?.message.content, ECHO);

  const tried = flaky.requests.filter((r) => r.path === "/v1/chat/completions");
  assert.equal(tried.length, MAX_ATTEMPTS);
  assert.ok(tried.every((r) => r.body.model === "gpt-4o"));
  assert.equal(upstream.requests.length, 1);
  assert.equal(upstream.requests[0]!.body.model, "gpt-4o-mini");
  assert.equal(sample(await metricsText(), "gateway_fallbacks_total", { model: "resilient" }), 1);
});

test("x-request-id: the client's id is echoed and forwarded; without one the gateway makes one", TIMEOUT, async () => {
  const post = (headers: Record<string, string>, body: object) =>
    fetch(`${gateway.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${FULL_KEY}`, "content-type": "application/json", ...headers },
      body: JSON.stringify({ model: "chat-small", messages: MESSAGES, ...body }),
    });

  const res = await post({ "x-request-id": "trace-42.a:b" }, {});
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-request-id"), "trace-42.a:b");
  assert.equal(((await res.json()) as any).choices[0].message.content, ECHO);
  assert.equal(upstream.requests[0]?.headers["x-request-id"], "trace-42.a:b");

  const streamed = await post({ "x-request-id": "trace-43" }, { stream: true });
  assert.equal(streamed.headers.get("x-request-id"), "trace-43");
  assert.ok((await sseEvents(streamed)).length > 0);
  assert.equal(upstream.requests[1]?.headers["x-request-id"], "trace-43");

  const anonymous = await post({}, {});
  await anonymous.arrayBuffer();
  const made = anonymous.headers.get("x-request-id");
  assert.ok(made && made.length > 0, "the gateway should make a request id");
  assert.notEqual(made, "trace-42.a:b");
  assert.equal(upstream.requests[2]?.headers["x-request-id"], made);

  // The SDK exposes the same header as the response's request id.
  const { request_id } = await sdk(FULL_KEY)
    .chat.completions.create({ model: "chat-small", messages: MESSAGES }, { headers: { "x-request-id": "trace-44" } })
    .withResponse();
  assert.equal(request_id, "trace-44");
});

test("GET /metrics counts the key's requests and tokens, streamed ones included", TIMEOUT, async () => {
  const client = sdk(METERED_KEY);
  const tokens = async (kind: string) =>
    sample(await metricsText(), "gateway_tokens_total", { key: "metered", model: "chat-small", kind });

  assert.equal(await tokens("prompt"), 0);
  await client.chat.completions.create({ model: "chat-small", messages: MESSAGES });
  assert.equal(await tokens("prompt"), 3);
  assert.equal(await tokens("completion"), 4);

  // Streamed without asking for usage: the gateway still counts it.
  for await (const _ of await client.chat.completions.create({ model: "chat-small", messages: MESSAGES, stream: true }));
  assert.equal(await tokens("prompt"), 6);
  assert.equal(await tokens("completion"), 8);

  const withUsage = await client.chat.completions.create({
    model: "chat-small",
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const _ of withUsage);
  await client.embeddings.create({ model: "embed", input: ["one two"] });

  const text = await metricsText();
  assert.equal(sample(text, "gateway_tokens_total", { key: "metered", model: "chat-small", kind: "prompt" }), 9);
  assert.equal(sample(text, "gateway_tokens_total", { key: "metered", model: "chat-small", kind: "completion" }), 12);
  assert.equal(sample(text, "gateway_tokens_total", { key: "metered", model: "embed", kind: "prompt" }), 2);
  const requests = { key: "metered", route: "/v1/chat/completions", method: "POST", status: "200", model: "chat-small" };
  assert.equal(sample(text, "gateway_requests_total", requests), 3);
  assert.equal(sample(text, "gateway_requests_total", { key: "metered", route: "/v1/embeddings", status: "200" }), 1);
  assert.ok(!text.includes(METERED_KEY), "a key itself must never appear in metrics");
});
