/**
 * GET /v1/models when the upstream's own list fails: the configured aliases are still served (the
 * log names the provider that failed), an unreadable list is the upstream's fault (502 naming the
 * provider), never the gateway's (500).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { Writable } from "node:stream";
import OpenAI from "openai";
import { createGateway, loadConfig } from "../src/index.ts";
import { apiErrorOf, startGateway, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-model-list-upstream-key-0123";
const CLIENT_KEY = "gw-model-list-client-key";
const MODELS = "/v1/models";
const T = { timeout: 20_000 };

let up: FakeUpstream;
let withAliases: GatewayProcess;
let passthroughOnly: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  const provider = { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" };
  const env = { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY };
  const retry = { maxAttempts: 1 };
  withAliases = await startGateway({ env, config: { providers: { fake: provider }, models: { fast: "fake/gpt-4o-mini" }, passthrough: "fake", retry } });
  passthroughOnly = await startGateway({ env, config: { providers: { fake: provider }, passthrough: "fake", retry } });
});
beforeEach(() => up.reset());
after(async () => {
  await withAliases?.stop();
  await passthroughOnly?.stop();
  await up?.close();
});

const sdk = (gw: GatewayProcess) => new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 10_000 });

test("the upstream's list is down: the aliases are still listed, and the log says which provider failed", T, async () => {
  up.setDefault(MODELS, { kind: "status", status: 503 });
  const page = await sdk(withAliases).models.list();
  assert.deepEqual(page.data.map((m) => m.id), ["fast"]);
  assert.equal((await sdk(withAliases).models.retrieve("fast")).id, "fast");
  await new Promise((r) => setTimeout(r, 200));
  const warning = withAliases.lines.find((l) => /model list/i.test(l) && /"provider":"fake"/.test(l));
  assert.ok(warning, `no log line names the provider:\n${withAliases.lines.slice(-5).join("\n")}`);
  // It comes back once the upstream does (a failure is not cached).
  up.reset();
  assert.ok((await sdk(withAliases).models.list()).data.some((m) => m.id === "gpt-4o-mini"));
});

test("an unreadable upstream list: 502 that names the provider (no aliases to fall back on)", T, async () => {
  up.setDefault(MODELS, { kind: "status", status: 200, body: "<html>this is not a model list</html>" });
  const err = await apiErrorOf(sdk(passthroughOnly).models.list());
  assert.equal(err.status, 502);
  assert.match(err.message, /'fake'/);
  assert.ok(!JSON.stringify(err.error).includes("<html>"));
  // With aliases, the same failure still lists them (a gateway of its own: the other one has the list cached).
  const fresh = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
    config: { providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } }, models: { fast: "fake/gpt-4o-mini" }, passthrough: "fake" },
  });
  try {
    assert.deepEqual((await sdk(fresh).models.list()).data.map((m) => m.id), ["fast"]);
  } finally {
    await fresh.stop();
  }
});

test("a list that is JSON but not a list (no data array): 502 too", T, async () => {
  up.setDefault(MODELS, { kind: "status", status: 200, body: { object: "list", data: "nope" } });
  const err = await apiErrorOf(sdk(passthroughOnly).models.list());
  assert.equal(err.status, 502);
  assert.match(err.message, /'fake'/);
});

test("close() while the upstream's model list is still being fetched: it ends at once and leaves no timer behind", T, async () => {
  up.setDefault(MODELS, { kind: "hang" });
  const config = loadConfig({ env: { OPENAI_BASE_URL: up.url, OPENAI_API_KEY: UPSTREAM_KEY } });
  const gateway = createGateway(config, { logDestination: new Writable({ write: (_c, _e, done) => done() }) });
  await gateway.app.ready();
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  const before = timers();
  const listing = gateway.app.inject({ method: "GET", url: "/v1/models" });
  await up.waitForRequests(1);
  const started = performance.now();
  await gateway.close();
  const res = await listing;
  assert.ok(performance.now() - started < 2000, "close waited for the list fetch's own timeout");
  assert.ok(res.statusCode >= 500, `${res.statusCode}`);
  await new Promise((r) => setImmediate(r));
  assert.ok(timers() <= before, `${timers() - before} timers left behind`);
});
