/**
 * Upstream answers that need a decision of the gateway's, each seen through the official SDK:
 * whether the client may retry once the gateway has (x-should-retry), an upstream that refuses the
 * gateway's own credentials, a stream that dies or errors before its first event (retried and
 * sent to the fallback target, since nothing has reached the client yet), an upstream that
 * rejects `stream_options`, and a whole answer larger than the gateway will hold in memory.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type Behaviour, type FakeUpstream } from "@mcpgw/fake-upstream";
import OpenAI from "openai";
import { apiErrorOf, startGateway, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-answers-upstream-key-0123456789";
const CLIENT_KEY = "gw-answers-client-key";
const CHAT = "/v1/chat/completions";
const MESSAGES = [{ role: "user" as const, content: "hello there world" }];
const T = { timeout: 30_000 };

let primary: FakeUpstream;
let backup: FakeUpstream;
let gw: GatewayProcess;
let client: OpenAI;

const provider = (url: string, extra: object = {}) => ({ type: "openai", baseUrl: url, apiKey: "${UPSTREAM_KEY}", ...extra });

before(async () => {
  primary = await startFakeUpstream();
  backup = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
    config: {
      providers: { primary: provider(primary.url), backup: provider(backup.url) },
      models: {
        solo: "primary/gpt-4o-mini",
        "with-backup": ["primary/gpt-4o-mini", "backup/gpt-4o"],
      },
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20, maxRetryAfterMs: 5_000 },
      timeouts: { firstByteMs: 2000, idleMs: 2000 },
    },
  });
  client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
});
beforeEach(() => {
  primary.reset();
  backup.reset();
});
after(async () => {
  await gw?.stop();
  await primary?.close();
  await backup?.close();
});

const chats = (up: FakeUpstream) => up.requests.filter((r) => r.path === CHAT);

async function text(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += chunk.choices[0]?.delta.content ?? "";
  return out;
}

describe("x-should-retry: the gateway tells clients not to stack their retries on its own", () => {
  test("a 500 on every attempt: the client gets x-should-retry: false after the gateway's 3 attempts", T, async () => {
    primary.setDefault(CHAT, { kind: "status", status: 500 });
    const err = await apiErrorOf(client.chat.completions.create({ model: "solo", messages: MESSAGES }));
    assert.equal(err.status, 500);
    assert.equal(err.headers?.get("x-should-retry"), "false");
    assert.equal(chats(primary).length, 3);
  });
  test("with the SDK's own retries on, a persistent 500 still costs only the gateway's 3 upstream attempts", T, async () => {
    primary.setDefault(CHAT, { kind: "status", status: 500 });
    const retrying = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 3, timeout: 20_000 });
    await apiErrorOf(retrying.chat.completions.create({ model: "solo", messages: MESSAGES }));
    assert.equal(chats(primary).length, 3, "the SDK retried what the gateway had already retried");
  });
  test("a 429 whose retry-after is beyond retry.maxRetryAfterMs: not retried by the gateway, and x-should-retry: false", T, async () => {
    primary.setDefault(CHAT, { kind: "status", status: 429, headers: { "retry-after": "120" } });
    const started = performance.now();
    const err = await apiErrorOf(client.chat.completions.create({ model: "solo", messages: MESSAGES }));
    assert.equal(err.status, 429);
    assert.equal(err.headers?.get("retry-after"), "120");
    assert.equal(err.headers?.get("x-should-retry"), "false");
    assert.equal(chats(primary).length, 1, "retrying long before the upstream said it would clear");
    assert.ok(performance.now() - started < 2000);
  });
  test("a configured alias is a metric label even when its upstream fails (a name the operator chose, not the client)", T, async () => {
    primary.setDefault(CHAT, { kind: "status", status: 500 });
    await apiErrorOf(client.chat.completions.create({ model: "solo", messages: MESSAGES }));
    const metrics = await (await fetch(`${gw.origin}/metrics`)).text();
    assert.match(metrics, /gateway_requests_total\{[^}]*status="500",model="solo"/);
  });
  test("a 400 is the request's own fault: no header that would change the SDK's mind", T, async () => {
    primary.enqueue(CHAT, { kind: "status", status: 400 });
    const err = await apiErrorOf(client.chat.completions.create({ model: "solo", messages: MESSAGES }));
    assert.equal(err.status, 400);
    assert.equal(err.headers?.get("x-should-retry"), null);
  });
});

describe("an upstream that rejects the gateway's credentials", () => {
  const rejected = (status: number): Behaviour => ({
    kind: "status",
    status,
    body: { error: { message: `Incorrect API key provided: ${UPSTREAM_KEY}.`, type: "invalid_request_error", param: null, code: "invalid_api_key" } },
  });
  for (const status of [401, 403]) {
    test(`upstream ${status}: 502 upstream_auth_failed with the upstream's scrubbed message, not the client's 401`, T, async () => {
      primary.setDefault(CHAT, rejected(status));
      const err = await apiErrorOf(client.chat.completions.create({ model: "solo", messages: MESSAGES }));
      assert.equal(err.status, 502);
      assert.equal(err.code, "upstream_auth_failed");
      assert.match(err.message, /primary/);
      assert.match(err.message, new RegExp(`${status}`));
      assert.match(err.message, /Incorrect API key provided: \[redacted\]/);
      assert.ok(!JSON.stringify(err.error).includes(UPSTREAM_KEY));
      assert.equal(chats(primary).length, 1, "credentials that failed once fail again: no retry");
    });
  }
  test("upstream 401 on the first target of an alias: the backup answers", T, async () => {
    primary.setDefault(CHAT, rejected(401));
    const answer = await client.chat.completions.create({ model: "with-backup", messages: MESSAGES });
    assert.equal(answer.model, "gpt-4o");
    assert.equal(chats(backup).length, 1);
  });
  test("a gateway key that is wrong is still the client's 401, told apart by its code", T, async () => {
    const wrong = new OpenAI({ apiKey: "not-a-client-key", baseURL: gw.baseURL, maxRetries: 0 });
    const err = await apiErrorOf(wrong.chat.completions.create({ model: "solo", messages: MESSAGES }));
    assert.equal(err.status, 401);
    assert.equal(err.code, "invalid_api_key");
  });
});

describe("a stream is committed on the upstream's first event, not before", () => {
  test("200, SSE headers, then a reset before any event: retried, and the client gets the whole stream", T, async () => {
    primary.enqueue(CHAT, { kind: "sse", events: [], reset: true });
    const stream = await client.chat.completions.create({ model: "solo", messages: MESSAGES, stream: true });
    assert.equal(await text(stream), "echo: hello there world");
    assert.equal(chats(primary).length, 2);
  });
  test("an error event as the first event: retried like a 5xx; the client never sees it", T, async () => {
    primary.enqueue(CHAT, { kind: "sse", events: [{ error: { message: "Overloaded", type: "server_error", param: null, code: "overloaded" } }] });
    const stream = await client.chat.completions.create({ model: "solo", messages: MESSAGES, stream: true });
    assert.equal(await text(stream), "echo: hello there world");
    assert.equal(chats(primary).length, 2);
  });
  test("a first target whose streams always die before their first event: the fallback target streams", T, async () => {
    primary.setDefault(CHAT, { kind: "sse", events: [], reset: true });
    const stream = await client.chat.completions.create({ model: "with-backup", messages: MESSAGES, stream: true });
    assert.equal(await text(stream), "echo: hello there world");
    assert.equal(chats(primary).length, 3);
    assert.equal(chats(backup).length, 1);
  });
  test("a stream that dies on every attempt before its first event: an HTTP error, not a 200 with an error event", T, async () => {
    primary.setDefault(CHAT, { kind: "sse", events: [], reset: true });
    const err = await apiErrorOf(client.chat.completions.create({ model: "solo", messages: MESSAGES, stream: true }));
    assert.equal(err.status, 502);
    assert.equal(err.headers?.get("x-should-retry"), "false");
  });
});

describe("stream_options and providers that do not take it", () => {
  test("an upstream that rejects stream_options: asked again without it at once, and not sent it again", T, async () => {
    primary.setDefault(CHAT, { kind: "reject-field", field: "stream_options" });
    for (let i = 0; i < 2; i++) {
      const stream = await client.chat.completions.create({ model: "solo", messages: MESSAGES, stream: true });
      assert.equal(await text(stream), "echo: hello there world");
    }
    const sent = chats(primary).map((r) => r.body.stream_options !== undefined);
    assert.deepEqual(sent, [true, false, false], "the first request learns; the later ones go without it");
  });
});

describe("provider settings", () => {
  let other: GatewayProcess;
  before(async () => {
    other = await startGateway({
      env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
      config: {
        providers: { plain: provider(primary.url, { streamUsage: false }) },
        passthrough: "plain",
        server: { responseLimitBytes: 1024 * 1024 },
        retry: { maxAttempts: 1 },
      },
    });
  });
  after(() => other?.stop());
  const otherClient = () => new OpenAI({ apiKey: CLIENT_KEY, baseURL: other.baseURL, maxRetries: 0, timeout: 20_000 });

  test("streamUsage: false sends no stream_options the client did not send; a client's own passes through", T, async () => {
    await text(await otherClient().chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true }));
    await text(await otherClient().chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true, stream_options: { include_usage: true } }));
    assert.deepEqual(chats(primary).map((r) => r.body.stream_options), [undefined, { include_usage: true }]);
  });
  test("a whole answer over server.responseLimitBytes: 502 that says so; one under it passes", T, async () => {
    primary.enqueue(CHAT, { kind: "big-json", bytes: 2 * 1024 * 1024 }, { kind: "big-json", bytes: 512 * 1024 });
    const err = await apiErrorOf(otherClient().chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }));
    assert.equal(err.status, 502);
    assert.equal(err.code, "upstream_response_too_large");
    const ok = await otherClient().chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
    assert.equal(ok.choices[0]?.message.content?.length, 512 * 1024);
  });
});
