/**
 * What reaches the upstream when the gateway changes nothing in a request: the client's own bytes
 * (its key order, spacing and escapes included), not a re-serialisation; with the gateway's
 * stream_options spliced in when it asks for a stream's usage; and, when an alias renames the
 * model, the parsed body serialised again with the target's model.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";

const KEY = "gw-passthrough-0123456789";
let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { U: "sk-passthrough-upstream-0123456789", KEY },
    config: { providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${U}" } }, passthrough: "fake", models: { writer: "fake/gpt-4o-mini" }, clients: [{ name: "app", keyEnv: "KEY" }] },
  });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

const post = (path: string, raw: string) =>
  fetch(`${gw.baseURL}${path}`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: raw });

test("a passthrough model: the upstream gets the client's bytes exactly", async () => {
  const raw = '{ "messages":[{"role":"user","content":"caf\\u00e9 \\"quoted\\""}],\n  "model" : "gpt-4o-mini", "x_vendor": {"keep": [1, 2.50, true]} }';
  const res = await post("/chat/completions", raw);
  assert.equal(res.status, 200, await res.text());
  assert.equal(up.requests[0]!.rawBody, raw);
});

test("a stream: the client's bytes with the gateway's stream_options put first, stripped again from the answer", async () => {
  const raw = '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi there"}]}';
  const res = await post("/chat/completions", raw);
  const text = await res.text();
  assert.equal(up.requests[0]!.rawBody, `{"stream_options":{"include_usage":true},${raw.slice(1)}`);
  assert.doesNotMatch(text, /"usage":\{/, "the usage chunk the client did not ask for is not relayed");
});

test("a client's own stream_options are amended in the parsed body, never duplicated", async () => {
  await (await post("/chat/completions", '{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":false},"messages":[{"role":"user","content":"x"}]}')).text();
  const sent = up.requests[0]!.rawBody;
  assert.equal(sent.match(/"stream_options"/g)?.length, 1);
  assert.deepEqual(JSON.parse(sent).stream_options, { include_usage: true });
});

test("an alias that renames the model: serialised again with the target's model, every other field kept", async () => {
  const res = await post("/chat/completions", '{"model":"writer","messages":[{"role":"user","content":"x"}],"x_vendor":{"a":1}}');
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(up.requests[0]!.rawBody), { model: "gpt-4o-mini", messages: [{ role: "user", content: "x" }], x_vendor: { a: 1 } });
});

test("embeddings: the client's bytes too", async () => {
  const raw = '{"input":["a","b"],"model":"text-embedding-3-small","dimensions":8}';
  assert.equal((await post("/embeddings", raw)).status, 200);
  assert.equal(up.requests[0]!.rawBody, raw);
});
