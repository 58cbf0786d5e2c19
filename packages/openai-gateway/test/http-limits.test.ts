/**
 * Requests that are broken or hostile at the HTTP level, sent over raw sockets the way curl, a
 * proxy or an attacker would: JSON nested thousands deep, a body that stops arriving, a body far
 * over the limit written in full, and requests the HTTP parser rejects. Each gets an answer in
 * OpenAI's error shape that a client can read, never a 500, a reset or an empty body.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { configFor, startGateway, type GatewayProcess, rawExchange, type RawExchange } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-limits-upstream-key-0123456789";
const CLIENT_KEY = "gw-limits-client-key";
const BODY_LIMIT = 1024 * 1024;
const T = { timeout: 30_000 };

let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
    config: configFor(up.url, { server: { bodyLimitBytes: BODY_LIMIT }, retry: { maxAttempts: 1 } }),
  });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

/** The OpenAI error object of a raw answer, after checking its status and shape. */
function openAIError(res: RawExchange, status: number): { message: string; type: string; param: string | null; code: string | null } {
  assert.equal(res.status, status, `expected ${status}, got ${res.status} (${res.ended}${res.error ? `, ${res.error}` : ""}):\n${JSON.stringify(res.headers)}\n${res.body.slice(0, 500)}`);
  assert.match(res.headers["content-type"] ?? "", /^application\/json/, JSON.stringify(res.headers));
  const body = JSON.parse(res.body) as { error?: Record<string, unknown> };
  assert.deepEqual(Object.keys(body), ["error"], res.body);
  assert.deepEqual(Object.keys(body.error!).sort(), ["code", "message", "param", "type"], res.body);
  assert.equal(typeof body.error!.message, "string");
  assert.doesNotMatch(res.body, /\n\s+at |node_modules|\.js:\d+/, "a stack trace reached the client");
  return body.error as never;
}

const post = (path: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${CLIENT_KEY}\r\ncontent-type: application/json\r\n` +
  `content-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;

describe("JSON nested deeper than the limit", () => {
  const nest = (depth: number) => `${"[".repeat(depth)}"deep"${"]".repeat(depth)}`;
  const user = `{"role":"user","content":"hi"}`;
  const bodies: Record<string, string> = {
    "in messages[].content": `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${nest(5000)}}]}`,
    "in a field the gateway does not know": `{"model":"gpt-4o-mini","messages":[${user}],"metadata_x":${nest(5000)}}`,
    "in stream_options": `{"model":"gpt-4o-mini","messages":[${user}],"stream":true,"stream_options":{"x":${nest(5000)}}}`,
  };
  for (const [where, body] of Object.entries(bodies)) {
    test(`5,000 levels ${where}: 400 that says so, and nothing sent upstream`, T, async () => {
      const error = openAIError(await rawExchange(gw.origin, { head: post("/v1/chat/completions", body), untilAnswer: true }), 400);
      assert.match(error.message, /nested/i);
      assert.equal(error.code, "json_too_deeply_nested");
      assert.equal(up.requests.length, 0);
    });
  }
  test("5,000 levels in embeddings `input`: 400 that says so", T, async () => {
    const body = `{"model":"text-embedding-3-small","input":${nest(5000)}}`;
    const error = openAIError(await rawExchange(gw.origin, { head: post("/v1/embeddings", body), untilAnswer: true }), 400);
    assert.equal(error.code, "json_too_deeply_nested");
  });
  test("nesting well inside the limit (a JSON schema 20 deep in tools) still works", T, async () => {
    let schema: object = { type: "string" };
    for (let i = 0; i < 20; i++) schema = { type: "object", properties: { inner: schema } };
    const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
    const tools = [{ type: "function" as const, function: { name: "deep", parameters: schema as Record<string, unknown> } }];
    const answer = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], tools });
    assert.equal(answer.choices[0]?.message.content, "echo: hi");
    assert.deepEqual(up.requests[0]?.body.tools, tools);
  });
});

describe("a body over server.bodyLimitBytes, written in full", () => {
  test("raw, with content-length: the 413 arrives and the connection is not reset (5 times)", T, async () => {
    const size = 4 * BODY_LIMIT;
    for (let i = 0; i < 5; i++) {
      const res = await rawExchange(gw.origin, {
        head: `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${CLIENT_KEY}\r\n` +
          `content-type: application/json\r\ncontent-length: ${size}\r\n\r\n`,
        body: Array.from({ length: 64 }, () => Buffer.alloc(size / 64, 0x20)),
        untilAnswer: true,
        timeoutMs: 15_000,
      });
      assert.notEqual(res.ended, "reset", `round ${i}: the connection was reset (${res.error}) after ${res.body.length} body bytes`);
      assert.equal(openAIError(res, 413).code, "request_too_large");
    }
  });
  test("through the openai SDK: a 413 APIError every time, never a connection error (5 times)", T, async () => {
    const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 15_000 });
    const content = "x".repeat(3 * BODY_LIMIT);
    for (let i = 0; i < 5; i++) {
      const err = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content }] }).then(
        () => assert.fail("the request succeeded"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof OpenAI.APIError && err.status === 413, `round ${i}: ${(err as Error).constructor.name}: ${(err as Error).message}`);
    }
    assert.equal(up.requests.length, 0);
  });
});

describe("requests the HTTP parser rejects get OpenAI's error shape", () => {
  test("HTTP/1.1 without a Host header: 400", T, async () => {
    const error = openAIError(await rawExchange(gw.origin, { head: "GET /v1/models HTTP/1.1\r\n\r\n", untilAnswer: true }), 400);
    assert.match(error.message, /host/i);
  });
  test("an Expect header other than 100-continue: 417", T, async () => {
    const res = await rawExchange(gw.origin, { head: post("/v1/chat/completions", "{}", "expect: something-else\r\n"), untilAnswer: true });
    assert.match(openAIError(res, 417).message, /expect/i);
  });
  test("a request line that is not HTTP: 400", T, async () => {
    openAIError(await rawExchange(gw.origin, { head: "THIS IS NOT HTTP\r\n\r\n" }), 400);
  });
  test("a header with a control character in its value: 400", T, async () => {
    openAIError(await rawExchange(gw.origin, { head: "GET /health HTTP/1.1\r\nhost: x\r\nx-bad: a\u0001b\r\n\r\n" }), 400);
  });
  test("headers larger than Node accepts: 431", T, async () => {
    const res = await rawExchange(gw.origin, { head: `GET /health HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(40_000)}\r\n\r\n` });
    openAIError(res, 431);
  });
  test("a content-length that is not a number: 400", T, async () => {
    openAIError(await rawExchange(gw.origin, { head: "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n" }), 400);
  });
});

test("a body that stops arriving, with a valid key: 408 after server.bodyTimeoutMs, and nothing sent upstream", T, async () => {
  const slow = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
    config: configFor(up.url, { server: { bodyTimeoutMs: 1000 } }),
  });
  try {
    const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "this body never ends" }] });
    const started = performance.now();
    const res = await rawExchange(slow.origin, {
      // The headers promise the whole body; only its first 20 bytes ever come.
      head: post("/v1/chat/completions", body).slice(0, -body.length + 20),
      timeoutMs: 10_000,
    });
    const ms = performance.now() - started;
    assert.equal(openAIError(res, 408).code, "request_timeout");
    assert.ok(ms >= 900 && ms < 5000, `cut after ${Math.round(ms)} ms`);
    assert.equal(res.ended, "close", "the connection is closed after the 408");
    assert.equal(up.requests.length, 0);
  } finally {
    await slow.stop();
  }
});
