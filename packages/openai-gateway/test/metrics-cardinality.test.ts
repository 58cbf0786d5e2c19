/**
 * What clients choose cannot grow the gateway's metrics or corrupt its logs: model names are
 * labelled only once an upstream accepted them, label values are short and few, and a log line
 * stays one bounded, valid JSON line whatever a client sends (a 1 MB model name included).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { configFor, startGateway, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-metrics-upstream-key-0123456789";
const CLIENT_KEY = "gw-metrics-client-key";
const CHAT = "/v1/chat/completions";
const T = { timeout: 60_000 };

let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({ env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY }, config: configFor(up.url, { retry: { maxAttempts: 1 } }) });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

const chat = (model: string) =>
  fetch(`${gw.origin}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  }).then(async (r) => ({ status: r.status, text: await r.text() }));

const metrics = () => fetch(`${gw.origin}/metrics`).then((r) => r.text());

/** The distinct values of one label across the gateway_ series. */
function labelValues(text: string, label: string): Set<string> {
  const values = new Set<string>();
  for (const m of text.matchAll(new RegExp(`^gateway_[a-z_]+\\{[^}]*\\b${label}="([^"]+)"`, "gm"))) values.add(m[1]!);
  return values;
}

test("model names the upstream rejects (404) mint no metric series", T, async () => {
  up.setDefault(CHAT, { kind: "status", status: 404, body: { error: { message: "no such model", type: "invalid_request_error", param: "model", code: "model_not_found" } } });
  for (let i = 0; i < 200; i++) assert.equal((await chat(`made-up-model-${i}`)).status, 404);
  const text = await metrics();
  assert.ok(![...labelValues(text, "model")].some((v) => v.startsWith("made-up-model-")), "a rejected name became a label value");
  // The requests are still counted, without a model.
  assert.match(text, /gateway_requests_total\{[^}]*status="404"[^}]*\} 200/);
});

test("accepted model names: each label value is at most 128 characters and at most 256 distinct names are labelled", T, async () => {
  const long = `accepted-${"m".repeat(300)}`;
  assert.equal((await chat(long)).status, 200);
  for (let i = 0; i < 300; i++) assert.equal((await chat(`accepted-model-${i}`)).status, 200);
  const values = labelValues(await metrics(), "model");
  for (const v of values) assert.ok(v.length <= 128, `a label value of ${v.length} characters`);
  assert.ok(values.size <= 257, `${values.size} distinct model label values`);
  assert.ok(values.has("other"), "names beyond the cap are counted as 'other'");
  assert.ok(values.has("accepted-model-0"), "the first names keep their own series");
});

test("three 1 MB model names: /metrics stays small, and every log line is one valid JSON line under 16 KB", T, async () => {
  const before = (await metrics()).length;
  for (const c of ["a", "b", "c"]) assert.equal((await chat(c.repeat(1024 * 1024))).status, 200);
  const after = await metrics();
  assert.ok(after.length - before < 64 * 1024, `/metrics grew by ${after.length - before} bytes`);

  await new Promise((r) => setTimeout(r, 300)); // let the async log destination flush
  const stdoutLines = gw.lines.filter((l) => l.startsWith("{"));
  assert.ok(stdoutLines.length > 3);
  for (const line of gw.lines) {
    assert.ok(line.length < 16 * 1024, `a log line of ${line.length} characters`);
    assert.doesNotThrow(() => JSON.parse(line), `not one JSON line: ${line.slice(0, 200)}...`);
  }
  // None was lost: each of the three requests has its access line, with the model shortened.
  const completed = stdoutLines.map((l) => JSON.parse(l) as { msg?: string; model?: string }).filter((l) => l.msg === "request completed" && /^(a|b|c)\1{20}/.test(l.model ?? ""));
  assert.equal(completed.length, 3, "an access line is missing");
});
