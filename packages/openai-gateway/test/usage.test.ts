/**
 * Budgets, per-model limits and usage records, end to end: the gateway as a process over the fake
 * upstream (whose usage blocks are exact: a word a token), the memory limit store and the default
 * SQLite usage store. What a user checks: a budgeted key is stopped once spent with OpenAI's
 * `insufficient_quota` (the SDK does not retry it), concurrent requests cannot overspend it, the
 * records add up to what the upstream reported, a stream the client cuts is still counted (marked
 * partial), and /usage and /usage/limits answer each key for itself and an admin key for all.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import OpenAI from "openai";

const T = { timeout: 30_000 };
const KEYS = { budget: "gw-usage-budget-0123456789", burst: "gw-usage-burst-0123456789", a: "gw-usage-a-0123456789", b: "gw-usage-b-0123456789", admin: "gw-usage-admin-0123456789", chatter: "gw-usage-chatter-0123456789", mcp: "gw-usage-mcp-0123456789" };
// $0.001 a token: a chat of "hi there" with max_tokens 5 reserves about 15 tokens ($0.015).
const PRICE = { input: 1000, output: 1000 };

let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY: "sk-usage-upstream-0123456789", BUDGET: KEYS.budget, BURST: KEYS.burst, A: KEYS.a, B: KEYS.b, ADMIN: KEYS.admin, CHATTER: KEYS.chatter, MCP: KEYS.mcp },
    config: {
      providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
      models: {
        "gpt-4o-mini": "fake/gpt-4o-mini",
        limited: { targets: "fake/gpt-4o-mini", limits: { rpm: 2 } },
        unpriced: "fake/some-model-nobody-priced",
      },
      prices: { "gpt-4o-mini": PRICE },
      clients: [
        { name: "budget", keyEnv: "BUDGET", budget: { usd: 0.05, period: "day" } },
        { name: "burst", keyEnv: "BURST", budget: { usd: 0.05, period: "month" } },
        { name: "a", keyEnv: "A" },
        { name: "b", keyEnv: "B", limits: { rpm: 100 } },
        { name: "admin", keyEnv: "ADMIN", admin: true },
        { name: "chatter", keyEnv: "CHATTER", budget: { usd: 5, period: "week" } },
        { name: "mcp-user", keyEnv: "MCP", limits: { concurrency: 1 } },
      ],
    },
  });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

const headers = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
const chat = (key: string, extra: object = {}, signal?: AbortSignal) =>
  fetch(`${gw.baseURL}/chat/completions`, {
    method: "POST",
    headers: headers(key),
    body: JSON.stringify({ model: "gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content: "hi there" }], ...extra }),
    ...(signal ? { signal } : {}),
  });
const get = async (key: string, path: string) => {
  const res = await fetch(`${gw.origin}${path}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
};
const json = async (key: string, path: string) => {
  const r = await get(key, path);
  assert.equal(r.status, 200, r.text);
  return JSON.parse(r.text);
};
const upstreamChats = () => up.requests.filter((r) => r.path === "/v1/chat/completions").length;

describe("budgets", () => {
  test("a budgeted key is stopped once spent: insufficient_quota, and the openai SDK does not retry it", T, async () => {
    const sdk = new OpenAI({ apiKey: KEYS.budget, baseURL: gw.baseURL, maxRetries: 3 });
    let spentMicros = 0;
    let refusal: unknown;
    for (let i = 0; i < 20 && !refusal; i++) {
      try {
        const answer = await sdk.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content: "hi there" }] });
        spentMicros += (answer.usage!.prompt_tokens + answer.usage!.completion_tokens) * PRICE.input;
      } catch (err) {
        refusal = err;
      }
    }
    assert.ok(refusal instanceof OpenAI.APIError, "the budget ran out within 20 requests");
    assert.equal(refusal.status, 429);
    assert.equal(refusal.code, "insufficient_quota");
    assert.equal(refusal.type, "insufficient_quota");
    assert.equal(refusal.headers?.get("x-should-retry"), "false");
    assert.match(refusal.message, /budget of key 'budget': \$0\.05/);
    const answered = upstreamChats();
    assert.ok(spentMicros <= 50_000, "never more than the budget");
    // The SDK did not retry: one more try reaches the upstream no more than the refused one did.
    await assert.rejects(sdk.chat.completions.create({ model: "gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content: "hi there" }] }));
    assert.equal(upstreamChats(), answered);

    const limits = await json(KEYS.budget, "/usage/limits");
    assert.equal(limits.key, "budget");
    assert.equal(limits.budget.usd, 0.05);
    assert.equal(limits.budget.period, "day");
    assert.equal(Math.round(limits.budget.spent_usd * 1e6), spentMicros, "spend settled to the real usage, exactly");
    assert.ok(limits.budget.remaining_usd * 1e6 < 15_000, "less left than one more request reserves");
    assert.equal(limits.budget.resets_at, new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate() + 1)).toISOString());
  });

  test("20 concurrent requests cannot overspend: each reserves its most before any is answered", T, async () => {
    up.setDefault("/v1/chat/completions", { kind: "delay", ms: 200 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => chat(KEYS.burst)));
    const ok = answers.filter((r) => r.status === 200);
    const refused = answers.filter((r) => r.status === 429);
    assert.equal(ok.length + refused.length, 20);
    // $0.05 over reservations of $0.015: three at once, whatever the answers later cost.
    assert.equal(ok.length, 3);
    for (const r of refused) assert.equal(((await r.json()) as { error: { code: string } }).error.code, "insufficient_quota");
    const limits = await json(KEYS.burst, "/usage/limits");
    assert.ok(limits.budget.spent_usd <= 0.05);
  });

  test("a budgeted key may not use a model without a price: a clear 400 before any upstream is asked", T, async () => {
    const res = await chat(KEYS.budget, { model: "unpriced" });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "model_not_priced");
    assert.match(body.error.message, /prices/);
    assert.equal(upstreamChats(), 0);
    assert.equal((await chat(KEYS.a, { model: "unpriced" })).status, 200, "a key without a budget may");
  });
});

describe("chat sessions", () => {
  test("POST /chat is priced and recorded by the model the message goes to: named, or its session's", T, async () => {
    const post = (body: object) => fetch(`${gw.origin}/chat`, { method: "POST", headers: headers(KEYS.chatter), body: JSON.stringify(body) });
    const first = await post({ message: "hello there", model: "gpt-4o-mini" });
    assert.equal(first.status, 200, await first.clone().text());
    const { session_id } = (await first.json()) as { session_id: string };
    const second = await post({ message: "and again", session_id });
    assert.equal(second.status, 200, await second.clone().text());
    const usage = await json(KEYS.chatter, "/usage?group_by=model");
    assert.deepEqual(usage.data.map((r: { model: string; requests: number }) => [r.model, r.requests]), [["gpt-4o-mini", 2]]);
    const limits = await json(KEYS.chatter, "/usage/limits");
    assert.ok(limits.budget.spent_usd > 0);
    assert.equal(Math.round(limits.budget.spent_usd * 1e6), Math.round(usage.data[0].cost_usd * 1e6));
  });
});

describe("chat_completion at the gateway's /mcp", () => {
  test("an MCP tool call is limited and recorded like any request: a whole answer, its lease back", T, async () => {
    const client = new Client({ name: "usage-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${gw.origin}/mcp`), { requestInit: { headers: { authorization: `Bearer ${KEYS.mcp}` } } }));
    try {
      for (let i = 0; i < 3; i++) {
        const result = await client.callTool({ name: "chat_completion", arguments: { prompt: `mcp call ${i}`, model: "gpt-4o-mini" } });
        assert.notEqual(result.isError, true, JSON.stringify(result));
      }
    } finally {
      await client.close();
    }
    const usage = await json(KEYS.mcp, "/usage?group_by=key,model");
    assert.deepEqual(usage.data.map((r: { model: string; requests: number; partial_requests: number; error_requests: number }) => [r.model, r.requests, r.partial_requests, r.error_requests]), [["gpt-4o-mini", 3, 0, 0]]);
    const limits = await json(KEYS.mcp, "/usage/limits");
    assert.equal(limits.limits.concurrency.in_flight, 0, "each call gave its lease back (concurrency 1: three calls in a row passed)");
  });
});

describe("per-model limits", () => {
  test("models.NAME.limits is shared by every key: the third request in the minute is refused whoever sends it", T, async () => {
    const first = await chat(KEYS.a, { model: "limited" });
    assert.equal(first.status, 200);
    assert.equal(((await first.json()) as { mcpgw?: unknown }).mcpgw, undefined, "targets and limits only: a plain model, no tool loop");
    assert.equal((await chat(KEYS.b, { model: "limited" })).status, 200);
    const third = await chat(KEYS.a, { model: "limited" });
    assert.equal(third.status, 429);
    const body = (await third.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "rate_limit_exceeded");
    assert.match(body.error.message, /model 'limited': limit 2/);
    assert.ok(Number(third.headers.get("retry-after-ms")) > 0);
    assert.equal((await chat(KEYS.a)).status, 200, "other models are not limited by it");
  });
});

describe("the upstream's own rate-limit headers", () => {
  test("are not passed on as if they were the client's: a key sees its own limits, or none", T, async () => {
    const body = { id: "c1", object: "chat.completion", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }], usage: { prompt_tokens: 2, completion_tokens: 1, total_tokens: 3 } };
    const upstreamHeaders = { "x-ratelimit-limit-requests": "5000", "x-ratelimit-remaining-requests": "3", "x-ratelimit-remaining-tokens": "7" };
    up.enqueue("/v1/chat/completions", { kind: "status", status: 200, headers: upstreamHeaders, body }, { kind: "status", status: 200, headers: upstreamHeaders, body });
    const limited = await chat(KEYS.b);
    assert.equal(limited.status, 200);
    assert.equal(limited.headers.get("x-ratelimit-limit-requests"), "100", "key b's own rpm");
    assert.notEqual(limited.headers.get("x-ratelimit-remaining-requests"), "3");
    const free = await chat(KEYS.a);
    assert.equal(free.status, 200);
    for (const h of Object.keys(upstreamHeaders)) assert.equal(free.headers.get(h), null, h);
  });
});

describe("usage records", () => {
  test("the records add up to what the upstream reported, per key and model; CSV too", T, async () => {
    type Row = { key: string; model: string; requests: number; prompt_tokens: number; completion_tokens: number; cost_usd: number; partial_requests: number };
    const rowOf = async () => ((await json(KEYS.b, "/usage?group_by=key,model")).data as Row[]).find((r) => r.key === "b" && r.model === "gpt-4o-mini");
    // What earlier tests of this file sent with key b.
    const before = (await rowOf()) ?? { requests: 0, prompt_tokens: 0, completion_tokens: 0, cost_usd: 0, partial_requests: 0 };
    let prompt = 0;
    let completion = 0;
    for (let i = 0; i < 5; i++) {
      const res = await chat(KEYS.b, { messages: [{ role: "user", content: `count me please ${i}` }] });
      const body = (await res.json()) as { usage: { prompt_tokens: number; completion_tokens: number } };
      prompt += body.usage.prompt_tokens;
      completion += body.usage.completion_tokens;
    }
    const usage = await json(KEYS.b, "/usage?group_by=key,model");
    const row = (await rowOf())!;
    assert.ok(row, JSON.stringify(usage));
    assert.equal(row.requests - before.requests, 5);
    assert.equal(row.prompt_tokens - before.prompt_tokens, prompt);
    assert.equal(row.completion_tokens - before.completion_tokens, completion);
    assert.equal(Math.round((row.cost_usd - before.cost_usd) * 1e6), (prompt + completion) * PRICE.input);
    assert.equal(row.partial_requests, 0);
    assert.ok(usage.data.every((r: { key: string }) => r.key === "b"), "a key sees its own rows only");

    const csv = await get(KEYS.b, "/usage?group_by=model,day&format=csv");
    assert.equal(csv.status, 200);
    assert.match(csv.type, /^text\/csv/);
    const [header, ...lines] = csv.text.trim().split("\r\n");
    assert.equal(header, "model,day,requests,prompt_tokens,cached_tokens,completion_tokens,total_tokens,cost_usd,partial_requests,error_requests");
    const today = new Date().toISOString().slice(0, 10);
    assert.ok(lines.some((l) => l.startsWith(`gpt-4o-mini,${today},`)), csv.text);
  });

  test("a stream the client cuts short is still counted, marked partial", T, async () => {
    up.setDefault("/v1/chat/completions", { kind: "slow-stream", chunkDelayMs: 50, chunks: 200 });
    const stop = new AbortController();
    const res = await chat(KEYS.a, { stream: true, max_tokens: 500, messages: [{ role: "user", content: "a long answer please" }] }, stop.signal);
    const reader = res.body!.getReader();
    let seen = 0;
    while (seen < 5) {
      const { value } = await reader.read();
      seen += (new TextDecoder().decode(value).match(/^data: /gm) ?? []).length;
    }
    stop.abort();
    // The row is written when the gateway sees the client go.
    let row: { requests: number; partial_requests: number; completion_tokens: number; prompt_tokens: number } | undefined;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      row = (await json(KEYS.a, "/usage?group_by=key")).data[0];
      if (row?.partial_requests) break;
    }
    assert.equal(row?.partial_requests, 1);
    assert.ok(row!.completion_tokens >= 5 && row!.completion_tokens < 200, `counted what was streamed: ${row!.completion_tokens}`);
  });

  test("an admin key sees every key; other keys may not ask for another's", T, async () => {
    const all = await json(KEYS.admin, "/usage?group_by=key");
    const keys = all.data.map((r: { key: string }) => r.key);
    for (const k of ["a", "b", "budget"]) assert.ok(keys.includes(k), `${k} in ${keys}`);
    const one = await json(KEYS.admin, "/usage?group_by=key&key=b");
    assert.deepEqual(one.data.map((r: { key: string }) => r.key), ["b"]);
    const denied = await get(KEYS.a, "/usage?key=b");
    assert.equal(denied.status, 403);
    assert.equal(JSON.parse(denied.text).error.code, "forbidden");
    const limits = await json(KEYS.admin, "/usage/limits?key=*");
    assert.deepEqual(limits.data.map((l: { key: string }) => l.key), ["budget", "burst", "a", "b", "admin", "chatter", "mcp-user"]);
    const b = limits.data.find((l: { key: string }) => l.key === "b");
    assert.equal(b.limits.rpm.limit, 100);
    assert.ok(b.limits.rpm.remaining < 100);
    assert.equal(b.models.limited.rpm.limit, 2, "the model limits the key shares");
    assert.equal((await get(KEYS.a, "/usage/limits?key=b")).status, 403);
  });

  test("bad queries get OpenAI-shaped 400s that name the parameter", T, async () => {
    for (const [q, param] of [["group_by=user", "group_by"], ["from=yesterday", "from"], ["format=xml", "format"], ["from=2026-12-02&to=2026-12-01", "from"]] as const) {
      const r = await get(KEYS.a, `/usage?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(JSON.parse(r.text).error.param, param);
    }
    assert.equal((await get("wrong-key-0123456789", "/usage")).status, 401);
  });
});
