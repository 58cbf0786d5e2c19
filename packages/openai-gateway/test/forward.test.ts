/**
 * The forward step's retry and fallback table, with fake provider clients that answer from a
 * script: which failures are retried, which move on to the next target, which end the request at
 * once, and what the client is told (x-should-retry) when the gateway gives up.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, test } from "node:test";
import { createScrubber } from "@mcpgw/openai-protocol";
import type { FastifyBaseLogger } from "fastify";
import type { RetrySettings, Target } from "../src/config/types.ts";
import { GatewayError } from "../src/errors.ts";
import { createMetrics } from "../src/observability/metrics.ts";
import { createForwarder, type ForwardRequest } from "../src/upstream/forward.ts";
import type { ProviderClient, UpstreamRequest, UpstreamResponse } from "../src/upstream/types.ts";

type Step = { status: number; body?: unknown; headers?: Record<string, string>; stream?: string[] | Error } | Error;

const RETRY: RetrySettings = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 60_000 };
const KEY = "sk-forward-test-key-0123456789";
const silent = { warn() {}, info() {}, debug() {}, error() {} } as unknown as FastifyBaseLogger;

/** A provider that answers each request with the next step of its script (the last step repeats). */
function scripted(name: string, steps: Step[]): ProviderClient & { seen: UpstreamRequest[] } {
  const seen: UpstreamRequest[] = [];
  return {
    name,
    streamUsage: true,
    seen,
    async send(req): Promise<UpstreamResponse> {
      seen.push(req);
      const step = steps[Math.min(seen.length - 1, steps.length - 1)]!;
      if (step instanceof Error) throw step;
      const headers = { "content-type": step.stream ? "text/event-stream" : "application/json", ...step.headers };
      if (step.stream instanceof Error) {
        const failing = new Readable({ read() {} });
        setImmediate(() => failing.destroy(step.stream as Error));
        return { statusCode: step.status, headers, body: failing };
      }
      const chunks = step.stream ?? [JSON.stringify(step.body ?? { ok: true })];
      return { statusCode: step.status, headers, body: Readable.from(chunks.map((c) => Buffer.from(c))) };
    },
  };
}

const errorBody = (message: string, extra: object = {}) => ({ error: { message, type: "server_error", param: null, code: null, ...extra } });
const connectionError = (code: string) => Object.assign(new Error(code), { code });

function setup(...providers: (ProviderClient & { seen: UpstreamRequest[] })[]) {
  const metrics = createMetrics();
  const forwarder = createForwarder({
    providers: new Map(providers.map((p) => [p.name, p])),
    retry: RETRY,
    scrub: createScrubber([KEY]),
    metrics,
    responseLimitBytes: 1024 * 1024,
    log: silent,
  });
  const targets: Target[] = providers.map((p) => ({ provider: p.name, model: `model-of-${p.name}` }));
  const request = (extra: Partial<ForwardRequest> = {}): ForwardRequest => ({
    targets,
    model: "alias",
    method: "POST",
    path: "/chat/completions",
    bodyFor: (t, { streamUsage }) => JSON.stringify({ model: t.model, ...(streamUsage ? { stream_options: { include_usage: true } } : {}) }),
    stream: false,
    addsStreamUsage: false,
    requestId: "r1",
    signal: new AbortController().signal,
    deadline: performance.now() + 10_000,
    ...extra,
  });
  return { forwarder, metrics, request };
}

async function failure(p: Promise<unknown>): Promise<GatewayError> {
  const err = await p.then(
    () => assert.fail("the forward succeeded"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatewayError, `not a GatewayError: ${err}`);
  return err;
}

describe("retry and fallback", () => {
  test("5xx on every attempt of the first target: its 3 attempts, then the second target answers", async () => {
    const a = scripted("a", [{ status: 500, body: errorBody("down") }]);
    const b = scripted("b", [{ status: 200, body: { answer: "from b" } }]);
    const { forwarder, metrics, request } = setup(a, b);
    const sent = await forwarder.forward(request());
    assert.equal(sent.target.provider, "b");
    assert.deepEqual(JSON.parse(sent.body!.toString()), { answer: "from b" });
    assert.equal(a.seen.length, 3);
    assert.match(await metrics.registry.metrics(), /gateway_fallbacks_total\{model="alias"\} 1/);
  });

  test("400 is the request's own fault: no retry, no fallback, no x-should-retry", async () => {
    const a = scripted("a", [{ status: 400, body: errorBody("bad temperature", { param: "temperature" }) }]);
    const b = scripted("b", [{ status: 200 }]);
    const { forwarder, request } = setup(a, b);
    const err = await failure(forwarder.forward(request()));
    assert.equal(err.status, 400);
    assert.equal(err.param, "temperature");
    assert.equal(err.headers["x-should-retry"], undefined);
    assert.deepEqual([a.seen.length, b.seen.length], [1, 0]);
  });

  for (const status of [401, 403]) {
    test(`${status}: the gateway's credentials failed: 502 upstream_auth_failed, not retried, the next target tried`, async () => {
      const a = scripted("a", [{ status, body: errorBody(`bad key ${KEY}`) }]);
      const b = scripted("b", [{ status }]);
      const { forwarder, request } = setup(a, b);
      const err = await failure(forwarder.forward(request()));
      assert.equal(err.status, 502);
      assert.equal(err.code, "upstream_auth_failed");
      assert.equal(err.headers["x-should-retry"], "false");
      assert.ok(!err.message.includes(KEY), err.message);
      assert.deepEqual([a.seen.length, b.seen.length], [1, 1]);
    });
  }

  test("429 with a retry-after beyond the cap: no retry on that target, straight to the next", async () => {
    const a = scripted("a", [{ status: 429, headers: { "retry-after": "120" }, body: errorBody("slow down") }]);
    const b = scripted("b", [{ status: 200 }]);
    const { forwarder, request } = setup(a, b);
    assert.equal((await forwarder.forward(request())).target.provider, "b");
    assert.equal(a.seen.length, 1);
  });

  test("429 with a retry-after beyond the cap and no other target: the 429, retry-after kept, x-should-retry: false", async () => {
    const a = scripted("a", [{ status: 429, headers: { "retry-after": "120" }, body: errorBody("slow down") }]);
    const { forwarder, request } = setup(a);
    const err = await failure(forwarder.forward(request()));
    assert.equal(err.status, 429);
    assert.deepEqual(err.headers, { "retry-after": "120", "x-should-retry": "false" });
  });

  test("a connection error, then success: retried on the same target", async () => {
    const a = scripted("a", [connectionError("ECONNREFUSED"), { status: 200 }]);
    const { forwarder, request } = setup(a);
    assert.equal((await forwarder.forward(request())).target.provider, "a");
    assert.equal(a.seen.length, 2);
  });

  test("a timeout on every attempt: 3 attempts, then the fallback target", async () => {
    const a = scripted("a", [connectionError("UND_ERR_HEADERS_TIMEOUT")]);
    const b = scripted("b", [{ status: 200 }]);
    const { forwarder, request } = setup(a, b);
    assert.equal((await forwarder.forward(request())).target.provider, "b");
    assert.equal(a.seen.length, 3);
  });

  test("a timeout on every attempt of the only target: 504, x-should-retry: false", async () => {
    const a = scripted("a", [connectionError("UND_ERR_HEADERS_TIMEOUT")]);
    const { forwarder, request } = setup(a);
    const err = await failure(forwarder.forward(request()));
    assert.equal(err.status, 504);
    assert.equal(err.headers["x-should-retry"], "false");
  });

  test("an upstream's own x-should-retry: false on a 500 is honoured: no retry, the next target", async () => {
    const a = scripted("a", [{ status: 500, headers: { "x-should-retry": "false" } }]);
    const b = scripted("b", [{ status: 200 }]);
    const { forwarder, request } = setup(a, b);
    assert.equal((await forwarder.forward(request())).target.provider, "b");
    assert.equal(a.seen.length, 1);
  });

  test("a retry that would wait past the deadline is not started", async () => {
    const a = scripted("a", [{ status: 503, headers: { "retry-after": "5" } }]);
    const { forwarder, request } = setup(a);
    const started = performance.now();
    const err = await failure(forwarder.forward(request({ deadline: performance.now() + 1000 })));
    assert.equal(err.status, 503);
    assert.equal(err.headers["x-should-retry"], "false");
    assert.ok(performance.now() - started < 500);
    assert.equal(a.seen.length, 1);
  });

  test("an answer over responseLimitBytes: 502 upstream_response_too_large, not retried, the next target tried", async () => {
    const a = scripted("a", [{ status: 200, body: { content: "x".repeat(2 * 1024 * 1024) } }]);
    const b = scripted("b", [{ status: 200 }]);
    const { forwarder, request } = setup(a, b);
    assert.equal((await forwarder.forward(request())).target.provider, "b");
    assert.equal(a.seen.length, 1);
  });
});

describe("streams", () => {
  const chunk = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\n';

  test("a body that fails before its first event is retried; one with its first event is committed", async () => {
    const a = scripted("a", [{ status: 200, stream: connectionError("UND_ERR_SOCKET") }, { status: 200, stream: [chunk, "data: [DONE]\n\n"] }]);
    const { forwarder, request } = setup(a);
    const sent = await forwarder.forward(request({ stream: true }));
    assert.deepEqual(sent.stream?.first.events, [chunk]);
    assert.equal(a.seen.length, 2);
  });

  test("an upstream that rejects stream_options is asked again at once without it, and never again with it", async () => {
    const reject = { status: 400, body: errorBody("Unrecognized request argument supplied: stream_options", { param: "stream_options" }) };
    const a = scripted("a", [reject, { status: 200, stream: [chunk] }, { status: 200, stream: [chunk] }]);
    const { forwarder, request } = setup(a);
    const first = await forwarder.forward(request({ stream: true, addsStreamUsage: true }));
    assert.equal(first.stream?.usageAdded, false);
    await forwarder.forward(request({ stream: true, addsStreamUsage: true }));
    assert.deepEqual(a.seen.map((r) => JSON.parse(r.body as string).stream_options !== undefined), [true, false, false]);
    assert.equal(a.streamUsage, false);
  });

  test("a client that asked for usage itself: its stream_options rejection is its own 400", async () => {
    const reject = { status: 400, body: errorBody("Unrecognized request argument supplied: stream_options", { param: "stream_options" }) };
    const a = scripted("a", [reject]);
    const { forwarder, request } = setup(a);
    const err = await failure(forwarder.forward(request({ stream: true, addsStreamUsage: false, bodyFor: () => '{"stream_options":{"include_usage":true}}' })));
    assert.equal(err.status, 400);
    assert.equal(a.streamUsage, true, "nothing learned from a request the gateway did not shape");
  });
});
