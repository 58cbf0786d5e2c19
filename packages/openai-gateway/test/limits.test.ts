/**
 * Per-key limits (one process, the memory store), end to end: the gateway as a process over the
 * fake upstream, driven by raw HTTP and by the official openai SDK. Exactness first: N concurrent
 * requests against rpm R admit exactly R; tokens reserved up front and settled to the real usage;
 * leases given back however a request ends, the client leaving included. Then OpenAI's contract:
 * x-ratelimit-* headers on answers and streams, a 429 `rate_limit_exceeded` naming the limit with
 * retry-after-ms (which the SDK's retry honours), and x-should-retry: false for a request that could
 * never fit.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";
import OpenAI from "openai";

const T = { timeout: 30_000 };
const KEYS = { tight: "gw-limit-tight-0123456789", tokens: "gw-limit-tokens-0123456789", conc: "gw-limit-conc-0123456789", sdk: "gw-limit-sdk-0123456789", free: "gw-limit-free-0123456789" };

let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY: "sk-limits-upstream-0123456789", TIGHT: KEYS.tight, TOKENS: KEYS.tokens, CONC: KEYS.conc, SDK: KEYS.sdk, FREE: KEYS.free },
    config: {
      providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
      passthrough: "fake",
      clients: [
        { name: "tight", keyEnv: "TIGHT", limits: { rpm: 10 } },
        { name: "tokens", keyEnv: "TOKENS", limits: { tpm: 1000 } },
        { name: "conc", keyEnv: "CONC", limits: { concurrency: 2 } },
        { name: "sdk", keyEnv: "SDK", limits: { rpm: 60 } },
        { name: "free", keyEnv: "FREE" },
      ],
    },
  });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

const chat = (key: string, extra: object = {}, signal?: AbortSignal) =>
  fetch(`${gw.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi there" }], ...extra }),
    ...(signal ? { signal } : {}),
  });

describe("requests per minute", () => {
  test("30 concurrent requests against rpm 10: exactly 10 answered, 20 refused with OpenAI's 429", T, async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => chat(KEYS.tight)));
    const ok = answers.filter((r) => r.status === 200);
    const refused = answers.filter((r) => r.status === 429);
    assert.equal(ok.length, 10);
    assert.equal(refused.length, 20);
    assert.equal(up.requests.filter((r) => r.path === "/v1/chat/completions").length, 10, "a refused request never reaches the upstream");
    const body = (await refused[0]!.json()) as { error: { code: string; type: string; message: string } };
    assert.equal(body.error.code, "rate_limit_exceeded");
    assert.match(body.error.message, /requests per minute \(rpm\) on key 'tight': limit 10, used 10, requested 1/);
    assert.ok(Number(refused[0]!.headers.get("retry-after-ms")) > 0);
    assert.ok(Number(refused[0]!.headers.get("retry-after")) >= 1);
    assert.equal(ok[0]!.headers.get("x-ratelimit-limit-requests"), "10");
    const remaining = ok.map((r) => Number(r.headers.get("x-ratelimit-remaining-requests"))).sort((a, b) => a - b);
    assert.deepEqual(remaining, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.match(ok[0]!.headers.get("x-ratelimit-reset-requests") ?? "", /^\d+(ms|s|m\d+s)$/);
    const metrics = await (await fetch(`${gw.origin}/metrics`)).text();
    assert.match(metrics, /gateway_rate_limited_total\{key="tight",limit="requests"\} 20/);
  });

  test("a key without limits gets no x-ratelimit headers and no 429", T, async () => {
    const answers = await Promise.all(Array.from({ length: 15 }, () => chat(KEYS.free)));
    assert.ok(answers.every((r) => r.status === 200));
    assert.equal(answers[0]!.headers.get("x-ratelimit-limit-requests"), null);
  });

  test("the openai SDK waits the retry-after-ms it is given and gets its answer", { timeout: 60_000 }, async () => {
    const client = new OpenAI({ apiKey: KEYS.sdk, baseURL: gw.baseURL, maxRetries: 3 });
    const started = performance.now();
    // 60 fit at once (a minute's worth); the 61st waits about a second for its turn.
    const answers = await Promise.all(Array.from({ length: 61 }, () => client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "queue" }] })));
    assert.equal(answers.length, 61);
    assert.ok(answers.every((a) => a.choices[0]?.message.content === "echo: queue"));
    assert.ok(performance.now() - started >= 800, `all answered in ${Math.round(performance.now() - started)} ms: the 61st did not wait`);
  });
});

describe("tokens per minute", () => {
  test("a request whose estimate alone is over the limit: 429 at once, x-should-retry: false, and the SDK does not retry it", T, async () => {
    const res = await chat(KEYS.tokens, { max_tokens: 5000 });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("x-should-retry"), "false");
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /more than the tokens per minute \(tpm\) limit .* allows at all/);
    const client = new OpenAI({ apiKey: KEYS.tokens, baseURL: gw.baseURL, maxRetries: 3 });
    // The access log line is written as the response closes: let the first one land.
    await new Promise((r) => setTimeout(r, 200));
    const before = gw.lines.filter((l) => l.includes('"status":429')).length;
    await assert.rejects(client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }], max_tokens: 5000 }), (err: unknown) => err instanceof OpenAI.RateLimitError);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(gw.lines.filter((l) => l.includes('"status":429')).length - before, 1, "one attempt, no retries");
  });

  test("tokens are reserved up front and settled to the real usage when the answer ends", T, async () => {
    // Estimate: the messages' size and max_tokens 200; the fake's real usage is a handful of tokens.
    const first = await chat(KEYS.tokens, { max_tokens: 200 });
    assert.equal(first.status, 200);
    const afterFirst = Number(first.headers.get("x-ratelimit-remaining-tokens"));
    assert.ok(afterFirst <= 800, `the reservation shows at once: ${afterFirst}`);
    await first.text();
    await new Promise((r) => setTimeout(r, 100));
    const second = await chat(KEYS.tokens, { max_tokens: 200 });
    const afterSecond = Number(second.headers.get("x-ratelimit-remaining-tokens"));
    // Without settling, two reservations would leave at most 1000 - 2 x 200.
    assert.ok(afterSecond > afterFirst - 200 + 150, `the first answer's unused reservation came back: ${afterFirst} then ${afterSecond}`);
  });
});

describe("requests in flight", () => {
  test("a third request while two run: 429 at once; once they end, the leases are back", T, async () => {
    up.setDefault("/v1/chat/completions", { kind: "delay", ms: 600 });
    const running = [chat(KEYS.conc), chat(KEYS.conc)];
    await up.waitForRequests(2);
    const third = await chat(KEYS.conc);
    assert.equal(third.status, 429);
    assert.match(((await third.json()) as { error: { message: string } }).error.message, /requests in flight \(concurrency\).*limit 2/);
    assert.deepEqual((await Promise.all(running)).map((r) => r.status), [200, 200]);
    up.setDefault("/v1/chat/completions", { kind: "ok" });
    assert.equal((await chat(KEYS.conc)).status, 200);
  });

  test("a client that leaves mid-stream gives its lease back", T, async () => {
    up.setDefault("/v1/chat/completions", { kind: "slow-stream", chunkDelayMs: 300 });
    const stops = [new AbortController(), new AbortController()];
    const streams = await Promise.all(stops.map((s) => chat(KEYS.conc, { stream: true }, s.signal)));
    assert.ok(streams.every((r) => r.status === 200));
    assert.equal(streams[0]!.headers.get("x-ratelimit-limit-requests"), null, "no rpm limit on this key, so no rpm headers");
    for (const s of stops) s.abort();
    up.setDefault("/v1/chat/completions", { kind: "ok" });
    const end = Date.now() + 5000;
    let status = 0;
    while (Date.now() < end && (status = (await chat(KEYS.conc)).status) !== 200) await new Promise((r) => setTimeout(r, 50));
    assert.equal(status, 200);
  });
});
