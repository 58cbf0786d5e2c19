/**
 * Retries as an MCP client sees them, with the fake upstream standing in for a faulty gateway:
 * 408/409/429/5xx and connection faults are retried (Retry-After honoured up to its cap), other
 * 4xx fail at once, the gateway's x-should-retry has the last word, TIMEOUT bounds each attempt
 * (a plain chat answer that outlasts it is not asked for again), and every failure says what
 * happened. Then through the real gateway: its retries and the MCP server's do not multiply.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { callTool, connectMcp, startGatewayOverFakeUpstream, type GatewayProcess, type McpProcess } from "@mcpgw/test-support";

const CHAT = "/v1/chat/completions";
const MODELS = "/v1/models";
const API_KEY = "gw-retries-test-key";
const ASK = { prompt: "hello there world", model: "gpt-4o-mini" };

/** The bin with this file's key and quiet logs, on top of `env`. */
const connect = (env: Record<string, string>) => connectMcp({ env: { GATEWAY_API_KEY: API_KEY, LOG_LEVEL: "warn", ...env } });

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let up: FakeUpstream;
const attempts = (path = CHAT) => up.requests.filter((r) => r.path === path).length;

before(async () => {
  up = await startFakeUpstream();
});
beforeEach(() => up.reset());
after(async () => {
  await up?.close();
});

describe("with MAX_RETRIES=2", () => {
  let mcp: McpProcess;
  before(async () => {
    mcp = await connect({ GATEWAY_URL: up.url, TIMEOUT: "20", MAX_RETRIES: "2" });
  });
  after(async () => {
    await mcp?.close();
  });

  test("a 429 with retry-after: 1 is retried after a second, then succeeds", async () => {
    up.enqueue(CHAT, { kind: "status", status: 429, headers: { "retry-after": "1" } });
    const { result, text, ms } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, undefined, text);
    assert.equal(text, "echo: hello there world");
    assert.equal(attempts(), 2);
    assert.ok(ms >= 950, `retried after ${ms} ms, before the 1 s the gateway asked for`);
    assert.ok(ms < 10_000, `took ${ms} ms`);
  });

  test("a retry-after above the cap means it will not clear soon: not retried, not waited for", async () => {
    up.enqueue(CHAT, { kind: "status", status: 503, headers: { "retry-after": "3600" } });
    const { result, text, ms } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true, text);
    assert.equal(attempts(), 1);
    assert.match(text, /\(503\)/);
    assert.ok(ms < 10_000, `waited ${ms} ms: the hour-long retry-after was honoured`);
  });

  test("a 500 with x-should-retry: false is not retried: the gateway has used its own retries", async () => {
    up.setDefault(CHAT, { kind: "status", status: 500, headers: { "x-should-retry": "false" } });
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true);
    assert.equal(attempts(), 1);
    assert.match(text, /\(500\)/);
    assert.match(text, /1 attempt\b/);
  });

  test("a 429 with x-should-retry: false is not retried either", async () => {
    up.setDefault(CHAT, { kind: "status", status: 429, headers: { "x-should-retry": "false", "retry-after": "1" } });
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true);
    assert.equal(attempts(), 1);
    assert.match(text, /rate limiting this key \(429\)/);
  });

  test("x-should-retry: true is retried, on a 503 and even on a 400 (the header overrides the status)", async () => {
    up.enqueue(
      CHAT,
      { kind: "status", status: 503, headers: { "x-should-retry": "true", "retry-after-ms": "20" } },
      { kind: "status", status: 400, headers: { "x-should-retry": "true", "retry-after-ms": "20" } },
    );
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, undefined, text);
    assert.equal(text, "echo: hello there world");
    assert.equal(attempts(), 3);
  });

  test("408 and 409 are retried too (retry-after-ms honoured)", async () => {
    up.enqueue(
      CHAT,
      { kind: "status", status: 408, headers: { "retry-after-ms": "20" } },
      { kind: "status", status: 409, headers: { "retry-after-ms": "20" } },
    );
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, undefined, text);
    assert.equal(text, "echo: hello there world");
    assert.equal(attempts(), 3);
  });

  test("500 on every attempt: gives up after 1 + MAX_RETRIES attempts and says so", async () => {
    up.setDefault(CHAT, { kind: "status", status: 500 });
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true);
    assert.equal(attempts(), 3);
    assert.match(text, /gateway .*failed \(500\)/);
    assert.match(text, /3 attempts/);
  });

  test("400 fails at once, with the gateway's status", async () => {
    up.enqueue(CHAT, { kind: "status", status: 400 });
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true);
    assert.equal(attempts(), 1);
    assert.match(text, /\(400\)/);
  });

  test("401 fails at once and points at GATEWAY_API_KEY", async () => {
    up.enqueue(CHAT, { kind: "status", status: 401 });
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true);
    assert.equal(attempts(), 1);
    assert.match(text, /GATEWAY_API_KEY \(401\)/);
    assert.ok(!text.includes(API_KEY), "the error echoes the key");
  });

  test("502 upstream_auth_failed: the provider refused the gateway's own key; not retried, and the user's key is not blamed", async () => {
    const body = {
      error: { message: "The model provider rejected the gateway's credentials (401): Incorrect API key provided.", type: "api_error", param: null, code: "upstream_auth_failed" },
    };
    up.setDefault(CHAT, { kind: "status", status: 502, body });
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true);
    assert.equal(attempts(), 1, "an upstream credential problem does not clear on a retry");
    assert.match(text, /Incorrect API key provided/, "the gateway's words");
    assert.match(text, /gateway's operator/);
    assert.match(text, /GATEWAY_API_KEY (is|was) (fine|accepted)/);
    assert.doesNotMatch(text, /rejected GATEWAY_API_KEY|Check the key this MCP server/);
    assert.ok(!text.includes(API_KEY), "the error echoes the key");
  });

  test("a connection reset is retried, then succeeds", async () => {
    up.enqueue(CHAT, { kind: "reset" });
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, undefined, text);
    assert.equal(text, "echo: hello there world");
    assert.equal(attempts(), 2);
  });

  test("list_models retries a 503, then lists the models", async () => {
    up.enqueue(MODELS, { kind: "status", status: 503 });
    const { result, text } = await callTool(mcp, "list_models");
    assert.equal(result.isError, undefined, text);
    assert.equal(attempts(MODELS), 2);
    assert.match(text, /gpt-4o-mini/);
    const models = (result.structuredContent as { models: { id: string }[] }).models.map((m) => m.id);
    assert.ok(models.includes("gpt-4o-mini"), String(models));
  });
});

describe("with TIMEOUT=1 and MAX_RETRIES=1", () => {
  let mcp: McpProcess;
  before(async () => {
    mcp = await connect({ GATEWAY_URL: up.url, TIMEOUT: "1", MAX_RETRIES: "1" });
  });
  after(async () => {
    await mcp?.close();
  });

  test("a plain chat_completion that outlasts TIMEOUT is not asked for again: the gateway may still be generating it", async () => {
    up.setDefault(CHAT, { kind: "hang" });
    const { result, text, ms } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true);
    assert.equal(attempts(), 1, "a retry would pay for the same answer twice");
    assert.match(text, /TIMEOUT=1 s/);
    assert.match(text, /not asked for again/);
    assert.match(text, /raise TIMEOUT/i);
    assert.ok(ms >= 900 && ms < 5000, `took ${ms} ms`);
    // The timed-out attempt let go of its connection.
    await Promise.all(up.requests.map((r) => up.waitForClose(r, 2000)));
  });

  test("list_models that outlasts TIMEOUT is retried (cheap and idempotent): 2 attempts of 1 s, then an error naming TIMEOUT", async () => {
    up.setDefault(MODELS, { kind: "hang" });
    const { result, text, ms } = await callTool(mcp, "list_models");
    assert.equal(result.isError, true);
    assert.equal(attempts(MODELS), 2);
    assert.match(text, /TIMEOUT=1 s/);
    assert.match(text, /2 attempts/);
    // Two 1 s attempts and a backoff of at most 0.5 s between them.
    assert.ok(ms >= 1900 && ms < 6000, `took ${ms} ms`);
    await Promise.all(up.requests.map((r) => up.waitForClose(r, 2000)));
  });

  test("an unreachable gateway: the error names GATEWAY_URL and the attempts", async () => {
    const port = await closedPort();
    const nowhere = await connect({ GATEWAY_URL: `http://127.0.0.1:${port}`, TIMEOUT: "1", MAX_RETRIES: "1" });
    try {
      const { result, text, ms } = await callTool(nowhere, "chat_completion", ASK);
      assert.equal(result.isError, true);
      assert.match(text, new RegExp(`Could not reach the gateway at http://127\\.0\\.0\\.1:${port}`));
      assert.match(text, /GATEWAY_URL/);
      assert.match(text, /ECONNREFUSED/, "the low-level reason, not just 'fetch failed'");
      assert.match(text, /2 attempts/);
      assert.ok(ms < 6000, `took ${ms} ms`);
    } finally {
      await nowhere.close();
    }
  });
});

describe("through the real gateway (retry.maxAttempts 3), MCP server with its default MAX_RETRIES", () => {
  let upstream: FakeUpstream;
  let gateway: GatewayProcess;
  let mcp: McpProcess;
  before(async () => {
    ({ upstream, gateway } = await startGatewayOverFakeUpstream({
      upstreamKey: "sk-upstream-retries-test-0123456789",
      clientKey: API_KEY,
      extra: { retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 } },
    }));
    mcp = await connect({ GATEWAY_URL: gateway.origin });
  });
  after(async () => {
    await mcp?.close();
    await gateway?.stop();
    await upstream?.close();
  });

  test("an upstream that always answers 500: exactly the gateway's 3 attempts for one chat_completion, not 3 x 4", async () => {
    upstream.setDefault(CHAT, { kind: "status", status: 500 });
    const { result, text } = await callTool(mcp, "chat_completion", ASK);
    assert.equal(result.isError, true);
    assert.match(text, /\(500\)/);
    const seen = upstream.requests.filter((r) => r.path === CHAT).length;
    assert.equal(seen, 3, `the upstream saw ${seen} attempts: the MCP server retried what the gateway had already retried`);
  });
});
