/**
 * Upstream faults as a client of the gateway sees them: retries that recover, retries that give up
 * with the upstream's own status and message, timeouts as 504s, and streams that fail after they
 * started (an error event, never a retry). The fake upstream counts every attempt.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { FakeUpstream } from "@mcpgw/fake-upstream";
import OpenAI from "openai";
import { configFor, startGateway, startGatewayOverFakeUpstream, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-fake-upstream-key-for-fault-tests";
const CLIENT_KEY = "gw-faults-client-key";
const CHAT = "/v1/chat/completions";
const MESSAGES = [{ role: "user" as const, content: "hello there world" }];

let up: FakeUpstream;
let gw: GatewayProcess;
let client: OpenAI;

before(async () => {
  ({ upstream: up, gateway: gw } = await startGatewayOverFakeUpstream({
    upstreamKey: UPSTREAM_KEY,
    clientKey: CLIENT_KEY,
    extra: {
      timeouts: { firstByteMs: 300, idleMs: 300, totalMs: 20_000 },
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200, maxRetryAfterMs: 10_000 },
    },
  }));
  client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

const attempts = () => up.requests.filter((r) => r.path === CHAT);

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/** The error a call rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  assert.fail("expected the call to fail");
}

/** Sum of the samples of one metric whose labels include all of `labels`. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${gw.origin}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^(\w+)(?:\{(.*)\})? ([\d.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const has = Object.entries(labels).every(([k, v]) => (m[2] ?? "").split(",").includes(`${k}="${v}"`));
    if (has) sum += Number(m[3]);
  }
  return sum;
}

/** Reads a stream with the SDK: the content it got before it failed, and the failure. */
async function readStream(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let content = "";
  let chunks = 0;
  try {
    for await (const chunk of stream) {
      chunks++;
      content += chunk.choices[0]?.delta.content ?? "";
    }
  } catch (error) {
    return { content, chunks, error: error as any };
  }
  return { content, chunks, error: undefined };
}

describe("retries that recover", () => {
  test("429 with retry-after: 1 then 200: the client gets 200 after waiting about a second", async () => {
    up.enqueue(CHAT, { kind: "status", status: 429, headers: { "retry-after": "1" } });
    const { value, ms } = await timed(() => client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }));
    assert.equal(value.choices[0]?.message.content, "echo: hello there world");
    assert.equal(attempts().length, 2);
    assert.ok(ms >= 900 && ms < 5000, `took ${ms} ms; retry-after asked for 1000`);
    const gap = attempts()[1]!.receivedAt - attempts()[0]!.receivedAt;
    assert.ok(gap >= 950, `second attempt came ${gap} ms after the first`);
  });

  test("a retry-after above maxRetryAfterMs is not waited for: the 429 reaches the client at once, marked not to retry", async () => {
    up.enqueue(CHAT, { kind: "status", status: 429, headers: { "retry-after": "30" } });
    const { value: err, ms } = await timed(() => rejection(client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES })));
    assert.ok(err instanceof OpenAI.RateLimitError, `got ${err}`);
    assert.equal(err.headers.get("retry-after"), "30");
    assert.equal(err.headers.get("x-should-retry"), "false");
    assert.equal(attempts().length, 1, "a retry long before the upstream said it would clear only adds load");
    assert.ok(ms < 2000, `took ${ms} ms`);
  });

  test("a connection reset before the answer is retried and the client gets 200", async () => {
    up.enqueue(CHAT, { kind: "reset" });
    const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
    assert.equal(res.choices[0]?.message.content, "echo: hello there world");
    assert.equal(attempts().length, 2);
    assert.equal(attempts()[0]!.aborted, true);
  });
});

describe("errors the client gets", () => {
  test("500 on every attempt: after maxAttempts (3) the client gets 500 with the upstream's message", async () => {
    const message = "The server had an error processing your request. Sorry about that! (req 42)";
    const fail = { kind: "status" as const, status: 500, body: { error: { message, type: "server_error", param: null, code: null } } };
    // A fourth attempt would succeed: a 500 proves the gateway stopped at three.
    up.enqueue(CHAT, fail, fail, fail);
    const err = await rejection(client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }));
    assert.ok(err instanceof OpenAI.InternalServerError, `got ${err}`);
    assert.equal(err.status, 500);
    assert.equal((err.error as { message: string }).message, message);
    assert.equal((err.error as { type: string }).type, "server_error");
    assert.equal(attempts().length, 3);
  });

  test("400 from the upstream is not retried and keeps its status, message, param and code", async () => {
    const error = { message: "Invalid value for 'temperature': must be at most 2.", type: "invalid_request_error", param: "temperature", code: "invalid_value" };
    up.enqueue(CHAT, { kind: "status", status: 400, body: { error } });
    const err = await rejection(client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, temperature: 2 }));
    assert.ok(err instanceof OpenAI.BadRequestError, `got ${err}`);
    assert.equal(err.status, 400);
    assert.deepEqual(err.error, error);
    assert.equal(attempts().length, 1);
  });

  test("429 on every attempt: the client gets 429 and the upstream's retry-after", async () => {
    const limited = { kind: "status" as const, status: 429, headers: { "retry-after": "0" } };
    up.enqueue(CHAT, limited, limited, limited);
    const err = await rejection(client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }));
    assert.ok(err instanceof OpenAI.RateLimitError, `got ${err}`);
    assert.equal(err.headers.get("retry-after"), "0");
    assert.equal(err.code, "rate_limit_exceeded");
    assert.equal(attempts().length, 3);
  });

  test("an upstream that never answers: 504 in OpenAI's error shape after maxAttempts x firstByteMs", async () => {
    up.setDefault(CHAT, { kind: "hang" });
    const start = performance.now();
    const err = await rejection(client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }));
    const ms = performance.now() - start;
    assert.ok(err instanceof OpenAI.APIError, `got ${err}`);
    assert.equal(err.status, 504);
    assert.deepEqual(Object.keys(err.error).sort(), ["code", "message", "param", "type"]);
    assert.equal(err.error.type, "timeout_error");
    assert.match(err.error.message, /time to first byte/);
    assert.equal(attempts().length, 3);
    // 3 x 300 ms waiting plus two short backoffs, nowhere near the 20 s total. undici runs its
    // first-byte and idle timers on a coarse 500 ms tick, so each wait is 300 to ~1000 ms.
    assert.ok(ms >= 900 && ms < 6000, `took ${ms} ms`);
    // The gateway hung up on each hanging attempt instead of leaving it open.
    for (const r of attempts()) await up.waitForClose(r, 2000);
    assert.ok(attempts().every((r) => r.aborted));
  });
});

describe("streams that fail after they started", () => {
  test("a stream cut halfway: the client keeps the first chunks, then gets an error; no retry", async () => {
    up.enqueue(CHAT, { kind: "stream-cut", afterChunks: 3 });
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true });
    const { content, chunks, error } = await readStream(stream);
    assert.equal(chunks, 3);
    assert.equal(content, "echo: hello "); // role chunk, "echo: ", "hello "
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError from the stream, got ${error}`);
    assert.match(error.message, /upstream/i);
    assert.equal(attempts().length, 1);
  });

  test("a stream cut halfway, on the wire: chunks, then one OpenAI error event, and no [DONE]", async () => {
    up.enqueue(CHAT, { kind: "stream-cut", afterChunks: 2 });
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: MESSAGES, stream: true }),
    });
    assert.equal(res.status, 200);
    const events = (await res.text()).split("\n\n").filter(Boolean);
    assert.equal(events.length, 3, events.join("\n\n"));
    assert.equal(JSON.parse(events[1]!.slice("data: ".length)).choices[0].delta.content, "echo: ");
    const last = JSON.parse(events[2]!.slice("data: ".length));
    assert.deepEqual(Object.keys(last.error).sort(), ["code", "message", "param", "type"]);
    assert.equal(last.error.code, "upstream_unreachable");
    assert.equal(attempts().length, 1);
  });

  test("an idle gap longer than idleMs between chunks: an error event mid-stream", async () => {
    up.enqueue(CHAT, { kind: "slow-stream", chunkDelayMs: 3000 });
    const start = performance.now();
    const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true });
    const { chunks, error } = await readStream(stream);
    const ms = performance.now() - start;
    assert.equal(chunks, 1);
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError from the stream, got ${error}`);
    assert.match(error.message, /idle gap between chunks/);
    // idleMs is 300 (undici checks it on a 500 ms tick); the upstream's gap is 3000.
    assert.ok(ms >= 290 && ms < 2500, `took ${ms} ms`);
    assert.equal(attempts().length, 1);
    await up.waitForClose(attempts()[0]!, 2000);
    assert.equal(attempts()[0]!.aborted, true);
  });
});

describe("metrics", () => {
  test("upstream attempts and retries are counted in /metrics", async () => {
    const attempts500 = await metric("gateway_upstream_attempts_total", { provider: "fake", outcome: "500" });
    const attempts200 = await metric("gateway_upstream_attempts_total", { provider: "fake", outcome: "200" });
    const retries = await metric("gateway_upstream_retries_total", { provider: "fake" });
    up.enqueue(CHAT, { kind: "status", status: 500 }, { kind: "status", status: 500 });
    await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
    assert.equal(await metric("gateway_upstream_attempts_total", { provider: "fake", outcome: "500" }), attempts500 + 2);
    assert.equal(await metric("gateway_upstream_attempts_total", { provider: "fake", outcome: "200" }), attempts200 + 1);
    assert.equal(await metric("gateway_upstream_retries_total", { provider: "fake" }), retries + 2);
  });
});

describe("the total timeout", () => {
  let tight: GatewayProcess;
  let tightClient: OpenAI;
  before(async () => {
    tight = await startGateway({
      env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
      config: configFor(up.url, {
        timeouts: { firstByteMs: 300, idleMs: 5000, totalMs: 2500 },
        retry: { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 100, maxRetryAfterMs: 10_000 },
      }),
    });
    tightClient = new OpenAI({ apiKey: CLIENT_KEY, baseURL: tight.baseURL, maxRetries: 0, timeout: 20_000 });
  });
  after(() => tight?.stop());

  test("bounds the retries: 504 at about totalMs (2.5 s), long before 10 attempts are used up", async () => {
    up.setDefault(CHAT, { kind: "hang" });
    const start = performance.now();
    const err = await rejection(tightClient.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES }));
    const ms = performance.now() - start;
    assert.ok(err instanceof OpenAI.APIError, `got ${err}`);
    assert.equal(err.status, 504);
    assert.ok(ms >= 2000 && ms < 4500, `took ${ms} ms with totalMs 2500`);
    assert.ok(attempts().length >= 2 && attempts().length < 10, `${attempts().length} attempts`);
  });

  test("bounds a retry-after wait: a 429 asking for 5 s fails at once instead of sleeping past totalMs", async () => {
    up.enqueue(CHAT, { kind: "status", status: 429, headers: { "retry-after": "5" } });
    const { value: err, ms } = await timed(() => rejection(tightClient.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES })));
    assert.ok(err instanceof OpenAI.RateLimitError, `got ${err}`);
    assert.ok(ms < 1500, `took ${ms} ms`);
    assert.equal(attempts().length, 1);
  });

  test("bounds a stream that keeps flowing: an error event at about totalMs, upstream hung up", async () => {
    up.enqueue(CHAT, { kind: "slow-stream", chunkDelayMs: 100, chunks: 100 });
    const start = performance.now();
    const stream = await tightClient.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true });
    const { chunks, error } = await readStream(stream);
    const ms = performance.now() - start;
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError from the stream, got ${error}`);
    assert.match(error.message, /total 2500 ms/);
    assert.ok(chunks >= 5 && chunks < 50, `${chunks} chunks`);
    assert.ok(ms >= 2400 && ms < 4500, `took ${ms} ms with totalMs 2500`);
    await up.waitForClose(attempts()[0]!, 2000);
    assert.equal(attempts()[0]!.aborted, true);
    assert.equal(attempts().length, 1);
  });
});
