/**
 * Cancellation as an MCP client sees it: when the client cancels a chat_completion
 * (notifications/cancelled), the HTTP request to the gateway is aborted at once, streaming or
 * not, and no retry follows. Checked against the fake upstream as the gateway, and through the
 * real gateway down to its upstream.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import type { Progress } from "@modelcontextprotocol/sdk/types.js";
import { startGatewayOverFakeUpstream, type GatewayProcess, connectMcp, type McpProcess } from "@mcpgw/test-support";

const CHAT = "/v1/chat/completions";
const UPSTREAM_KEY = "sk-fake-upstream-key-for-cancel-tests";
const CLIENT_KEY = "gw-cancel-client-key";
const ASK = { prompt: "hello there world", model: "gpt-4o-mini" };
// A stream far longer than any test: only a cancellation can end it early.
const SLOW_STREAM = { kind: "slow-stream", chunkDelayMs: 200, chunks: 200 } as const;

/** The bin with this file's key and quiet logs, on top of `env`. */
const connect = (env: Record<string, string>) => connectMcp({ env: { GATEWAY_API_KEY: CLIENT_KEY, LOG_LEVEL: "warn", ...env } });

/**
 * Starts a chat_completion, waits until `upstream` has the request (and, with progress, until
 * text has arrived), cancels it, and returns how long the upstream socket took to close.
 */
async function cancelMidway(mcp: McpProcess, upstream: FakeUpstream, withProgress: boolean) {
  const controller = new AbortController();
  const progress: Progress[] = [];
  let firstProgress!: () => void;
  const progressed = new Promise<void>((resolve) => (firstProgress = resolve));
  const call = mcp.client.callTool({ name: "chat_completion", arguments: ASK }, undefined, {
    signal: controller.signal,
    timeout: 60_000,
    ...(withProgress
      ? {
          onprogress: (p: Progress) => {
            progress.push(p);
            firstProgress();
          },
        }
      : {}),
  });
  const settled = call.then(
    () => "resolved",
    (err: Error) => err,
  );
  await upstream.waitForRequests(1, 10_000);
  if (withProgress) {
    await within(progressed, 10_000, "the first progress notification");
  }
  const req = upstream.requests[0]!;
  assert.equal(req.closedAt, undefined, "the upstream request ended before the cancel");

  const cancelledAt = performance.now();
  controller.abort("the user pressed stop");
  const closedAt = await upstream.waitForClose(req, 5000);
  const outcome = await settled;
  assert.ok(outcome instanceof Error, `the cancelled call ${String(outcome)}`);
  return { closeMs: closedAt - cancelledAt, req, progress };
}

/** `promise`, or a failure naming `what` after `ms`; leaves no timer behind. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** No request after the cancelled one: nothing retried it. */
async function assertNoRetry(upstream: FakeUpstream) {
  await sleep(1500);
  assert.deepEqual(
    upstream.requests.map((r) => r.path),
    [CHAT],
    "a request reached the upstream after the cancel",
  );
}

describe("against the fake upstream as the gateway", () => {
  let up: FakeUpstream;
  let mcp: McpProcess;
  before(async () => {
    up = await startFakeUpstream();
    // Retries on and a long TIMEOUT: only the cancel can end these calls early, and a retry could follow it.
    mcp = await connect({ GATEWAY_URL: up.url, TIMEOUT: "30", MAX_RETRIES: "3" });
  });
  beforeEach(() => up.reset());
  after(async () => {
    await mcp?.close();
    await up?.close();
  });

  test("plain call (no progressToken): cancelling aborts the gateway request within 1 s, no retry", async () => {
    up.enqueue(CHAT, { kind: "hang" });
    const { closeMs, req } = await cancelMidway(mcp, up, false);
    assert.notEqual(req.body.stream, true, "a call without progress streamed");
    assert.ok(closeMs < 1000, `the gateway request stayed open ${closeMs} ms after the cancel`);
    assert.equal(req.aborted, true);
    await assertNoRetry(up);
  });

  test("streaming call (progressToken): cancelling mid-stream aborts it within 1 s, no retry", async () => {
    up.enqueue(CHAT, SLOW_STREAM);
    const { closeMs, req, progress } = await cancelMidway(mcp, up, true);
    assert.equal(req.body.stream, true, "a call with progress did not stream");
    assert.ok(progress.length >= 1);
    assert.ok(closeMs < 1000, `the stream stayed open ${closeMs} ms after the cancel`);
    assert.equal(req.aborted, true, "the stream ran to its end");
    await assertNoRetry(up);
  });

  test("the server answers the next call after a cancelled one", async () => {
    up.enqueue(CHAT, { kind: "hang" });
    await cancelMidway(mcp, up, false);
    const result = await mcp.client.callTool({ name: "chat_completion", arguments: ASK }, undefined, { timeout: 20_000 });
    assert.equal(result.isError, undefined, JSON.stringify(result.content));
    assert.deepEqual(result.content, [{ type: "text", text: "echo: hello there world" }]);
  });
});

describe("through the real gateway", () => {
  let up: FakeUpstream;
  let gw: GatewayProcess;
  let mcp: McpProcess;
  before(async () => {
    // The gateway's default (long) timeouts: only the cancel, passed down, can end the upstream stream.
    ({ upstream: up, gateway: gw } = await startGatewayOverFakeUpstream({ upstreamKey: UPSTREAM_KEY, clientKey: CLIENT_KEY }));
    mcp = await connect({ GATEWAY_URL: gw.origin, TIMEOUT: "30", MAX_RETRIES: "3" });
  });
  beforeEach(() => up.reset());
  after(async () => {
    await mcp?.close();
    await gw?.stop();
    await up?.close();
  });

  test("cancelling a streaming call closes the upstream's stream within ~1 s, no retry", async () => {
    up.enqueue(CHAT, SLOW_STREAM);
    const { closeMs, req } = await cancelMidway(mcp, up, true);
    assert.equal(req.body.stream, true);
    assert.ok(closeMs < 1000, `the upstream stream stayed open ${closeMs} ms after the cancel`);
    assert.equal(req.aborted, true, "the upstream stream ran to its end");
    await assertNoRetry(up);
  });

  test("cancelling a plain call closes the upstream request within ~1 s, no retry", async () => {
    up.enqueue(CHAT, { kind: "hang" });
    const { closeMs, req } = await cancelMidway(mcp, up, false);
    assert.notEqual(req.body.stream, true);
    assert.ok(closeMs < 1000, `the upstream request stayed open ${closeMs} ms after the cancel`);
    await assertNoRetry(up);
  });
});
