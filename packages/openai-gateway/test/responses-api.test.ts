/**
 * A stored response's calls through the gateway, with the official openai SDK as the client:
 * retrieve, input_items, delete and cancel go to the provider that created the response (remembered
 * per response), a continuation (previous_response_id) goes to the target that holds its history
 * even when an alias's fallback served it, and a key never reaches another key's response.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";
import OpenAI from "openai";

const T = { timeout: 30_000 };
const KEY = "gw-responses-api-key-0123456789";
const OTHER = "gw-responses-api-other-0123456789";
const UPSTREAM_KEY = "sk-responses-upstream-0123456789";
let a: FakeUpstream;
let b: FakeUpstream;
let gw: GatewayProcess;
let sdk: OpenAI;
let other: OpenAI;

before(async () => {
  a = await startFakeUpstream({ apiKey: UPSTREAM_KEY });
  b = await startFakeUpstream({ apiKey: UPSTREAM_KEY });
  gw = await startGateway({
    env: { UPSTREAM_KEY, KEY, OTHER },
    config: {
      providers: {
        a: { type: "openai", baseUrl: a.url, apiKey: "${UPSTREAM_KEY}" },
        b: { type: "openai", baseUrl: b.url, apiKey: "${UPSTREAM_KEY}" },
      },
      models: { writer: "a/gpt-4o-mini", pair: ["a/gpt-4o-mini", "b/gpt-4o"] },
      retry: { maxAttempts: 1 },
      clients: [
        { name: "app", keyEnv: "KEY" },
        { name: "other", keyEnv: "OTHER" },
      ],
    },
  });
  sdk = new OpenAI({ apiKey: KEY, baseURL: gw.baseURL, maxRetries: 0 });
  other = new OpenAI({ apiKey: OTHER, baseURL: gw.baseURL, maxRetries: 0 });
});
beforeEach(() => {
  a.reset();
  b.reset();
});
after(async () => {
  await gw?.stop();
  await a?.close();
  await b?.close();
});

const paths = (up: FakeUpstream) => up.requests.map((r) => `${r.method} ${r.path}`);

describe("a stored response", () => {
  test("retrieve and input_items reach the provider that made it, with the upstream key, never the client's", T, async () => {
    const created = await sdk.responses.create({ model: "writer", input: "remember this" });
    const again = await sdk.responses.retrieve(created.id);
    assert.equal(again.id, created.id);
    assert.equal(again.output_text, created.output_text);
    const items = await sdk.responses.inputItems.list(created.id, { limit: 5 });
    assert.equal(items.data.length, 1);
    assert.match(JSON.stringify(items.data[0]), /remember this/);
    assert.deepEqual(paths(a), ["POST /v1/responses", `GET /v1/responses/${created.id}`, `GET /v1/responses/${created.id}/input_items`]);
    assert.equal(a.requests.at(-1)!.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.ok(!JSON.stringify(a.requests.map((r) => r.headers)).includes(KEY));
    assert.match(a.requests.at(-1)!.rawBody, /^$/);
  });

  test("a streamed response is remembered by the id in its response.created event", T, async () => {
    const stream = sdk.responses.stream({ model: "writer", input: "streamed then read" });
    const final = await stream.finalResponse();
    const again = await sdk.responses.retrieve(final.id);
    assert.equal(again.output_text, "echo: streamed then read");
  });

  test("delete: the upstream deletes it, and the gateway forgets it", T, async () => {
    const created = await sdk.responses.create({ model: "writer", input: "short-lived" });
    await sdk.responses.delete(created.id);
    assert.deepEqual(paths(a).slice(-1), [`DELETE /v1/responses/${created.id}`]);
    await assert.rejects(sdk.responses.retrieve(created.id), (err: unknown) => err instanceof OpenAI.NotFoundError);
    // Forgotten: the second retrieve never went upstream.
    assert.equal(a.requests.filter((r) => r.method === "GET").length, 0);
  });

  test("cancel of a background response reaches its provider", T, async () => {
    const created = await sdk.responses.create({ model: "writer", input: "in the background", background: true });
    const cancelled = await sdk.responses.cancel(created.id);
    assert.equal(cancelled.status, "cancelled");
    assert.deepEqual(paths(a).slice(-1), [`POST /v1/responses/${created.id}/cancel`]);
  });

  test("another key's response is not found, as an unknown id: nothing is sent upstream", T, async () => {
    const created = await sdk.responses.create({ model: "writer", input: "mine" });
    const before = a.requests.length;
    await assert.rejects(other.responses.retrieve(created.id), (err: unknown) => err instanceof OpenAI.NotFoundError && /not found/.test(err.message));
    await assert.rejects(other.responses.delete(created.id), (err: unknown) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(other.responses.inputItems.list(created.id), (err: unknown) => err instanceof OpenAI.NotFoundError);
    await assert.rejects(sdk.responses.retrieve("resp_never_made"), (err: unknown) => err instanceof OpenAI.NotFoundError);
    // Nor continued by it: its history is the other key's.
    await assert.rejects(
      other.responses.create({ model: "writer", input: "and then?", previous_response_id: created.id }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && err.code === "previous_response_not_found" && err.param === "previous_response_id",
    );
    assert.equal(a.requests.length, before);
    // Still the creator's.
    assert.equal((await sdk.responses.retrieve(created.id)).id, created.id);
  });
});

describe("previous_response_id", () => {
  test("a continuation goes to the target that holds the history, even when fallback served it", T, async () => {
    // The alias's first target fails once: the fallback (b) makes the response.
    a.enqueue("/v1/responses", { kind: "status", status: 503 });
    const first = await sdk.responses.create({ model: "pair", input: "first part" });
    assert.deepEqual([a.requests.length, b.requests.length], [1, 1]);
    // a is healthy again, but never saw that response: the continuation must go to b.
    const next = await sdk.responses.create({ model: "pair", input: "second part", previous_response_id: first.id });
    assert.deepEqual([a.requests.length, b.requests.length], [1, 2]);
    assert.equal(b.requests[1]!.body.previous_response_id, first.id);
    assert.equal(b.requests[1]!.body.model, "gpt-4o");
    assert.equal(next.output_text, "echo: second part");
    // Retrieve goes there too.
    assert.equal((await sdk.responses.retrieve(first.id)).id, first.id);
    assert.deepEqual(paths(b).slice(-1), [`GET /v1/responses/${first.id}`]);
  });
});
