/**
 * A client that goes away must not leave its upstream request running (and billing): the gateway
 * cancels it at once, streaming or not, and goes on serving everyone else.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import type { FakeUpstream } from "@mcpgw/fake-upstream";
import OpenAI from "openai";
import { startGatewayOverFakeUpstream, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-fake-upstream-key-for-disconnect-tests";
const CLIENT_KEY = "gw-disconnect-client-key";
const CHAT = "/v1/chat/completions";
const MESSAGES = [{ role: "user" as const, content: "hello there world" }];

let up: FakeUpstream;
let gw: GatewayProcess;
let client: OpenAI;

before(async () => {
  // Default (long) timeouts: only the client leaving can end these upstream requests early.
  ({ upstream: up, gateway: gw } = await startGatewayOverFakeUpstream({ upstreamKey: UPSTREAM_KEY, clientKey: CLIENT_KEY }));
  client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

function chat(body: object, signal: AbortSignal): Promise<Response> {
  return fetch(`${gw.baseURL}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: MESSAGES, ...body }),
    signal,
  });
}

/** Aborts the client request and returns how long the upstream request stayed open after that. */
async function abortAndTimeUpstreamClose(controller: AbortController): Promise<number> {
  const upstreamRequest = up.requests.find((r) => r.path === CHAT);
  assert.ok(upstreamRequest, "the upstream never saw the request");
  assert.equal(upstreamRequest.closedAt, undefined, "the upstream request ended before the client left");
  const abortedAt = performance.now();
  controller.abort();
  const closedAt = await up.waitForClose(upstreamRequest, 5000);
  assert.equal(upstreamRequest.aborted, true, "the upstream response finished instead of being cut off");
  return closedAt - abortedAt;
}

async function assertStillServing(): Promise<void> {
  const res = await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES });
  assert.equal(res.choices[0]?.message.content, "echo: hello there world");
  let streamed = "";
  for await (const chunk of await client.chat.completions.create({ model: "gpt-4o-mini", messages: MESSAGES, stream: true })) {
    streamed += chunk.choices[0]?.delta.content ?? "";
  }
  assert.equal(streamed, "echo: hello there world");
}

test("client leaves mid-stream: the upstream stream is closed within a second", async () => {
  up.enqueue(CHAT, { kind: "slow-stream", chunkDelayMs: 200, chunks: 100 }); // 20 s if left running
  const controller = new AbortController();
  const res = await chat({ stream: true }, controller.signal);
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /^data: \{/);
  const ms = await abortAndTimeUpstreamClose(controller);
  assert.ok(ms < 1000, `upstream closed ${ms} ms after the client left`);
  await reader.cancel().catch(() => {});
  await assertStillServing();
});

test("client leaves while the upstream has not answered yet: the upstream request is closed within a second", async () => {
  up.enqueue(CHAT, { kind: "hang" });
  const controller = new AbortController();
  const pending = chat({}, controller.signal).catch((err: unknown) => err);
  await up.waitForRequests(1);
  const ms = await abortAndTimeUpstreamClose(controller);
  assert.ok(ms < 1000, `upstream closed ${ms} ms after the client left`);
  assert.equal(((await pending) as Error).name, "AbortError");
  await assertStillServing();
});

test("client leaves while the upstream takes its time (delay): the upstream request is closed within a second", async () => {
  up.enqueue(CHAT, { kind: "delay", ms: 20_000 });
  const controller = new AbortController();
  const pending = chat({}, controller.signal).catch((err: unknown) => err);
  await up.waitForRequests(1);
  const ms = await abortAndTimeUpstreamClose(controller);
  assert.ok(ms < 1000, `upstream closed ${ms} ms after the client left`);
  await pending;
  // Only the one attempt: a client that left is not retried for.
  assert.equal(up.requests.filter((r) => r.path === CHAT).length, 1);
  await assertStillServing();
});

test("a request whose client left is counted as 499 in /metrics", async () => {
  const count = async () => {
    const text = await (await fetch(`${gw.origin}/metrics`)).text();
    const lines = text.split("\n").filter((l) => l.startsWith("gateway_requests_total{") && l.includes('status="499"') && l.includes('route="/v1/chat/completions"'));
    return lines.reduce((sum, l) => sum + Number(l.split(" ").at(-1)), 0);
  };
  const before = await count();
  up.enqueue(CHAT, { kind: "hang" });
  const controller = new AbortController();
  const pending = chat({}, controller.signal).catch(() => {});
  await up.waitForRequests(1);
  await abortAndTimeUpstreamClose(controller);
  await pending;
  // The metric is written when the gateway sees the close; poll briefly rather than sleep blindly.
  const deadline = performance.now() + 2000;
  while ((await count()) === before && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(await count(), before + 1);
});
