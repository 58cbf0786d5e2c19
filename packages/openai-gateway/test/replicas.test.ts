/**
 * Two gateway replicas, as the compose profile `replicas` runs them, without containers: two gateway
 * processes sharing a real redis-server (limits and budgets) and a real Postgres (usage records),
 * behind nginx with deploy/replicas/nginx.conf itself, over the fake upstream. What an operator
 * checks: a key's rpm holds across both replicas as it would on one process; its budget's spend in
 * Redis is what the usage records in Postgres add up to, read from either replica; a replica killed
 * mid-stream leaves leases that expire; with Redis stopped each replica limits at limit / 2 and
 * refuses budgeted keys, and once Redis is back they share one count again.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { freePort, startGateway, startNginx, startPostgres, startRedis, type GatewayProcess, type NginxProcess, type PostgresProcess, type RedisProcess } from "@mcpgw/test-support";
import { PACKAGE_DIR } from "./fixtures/registry-harness.ts";

const T = { timeout: 60_000 };
const KEYS = { rpm: "gw-rep-rpm-0123456789", budget: "gw-rep-budget-0123456789", conc: "gw-rep-conc-0123456789", local: "gw-rep-local-0123456789", admin: "gw-rep-admin-0123456789" };
const PRICE = { input: 1000, output: 1000 };

let up: FakeUpstream;
let redis: RedisProcess;
let postgres: PostgresProcess;
let a: GatewayProcess;
let b: GatewayProcess;
let nginx: NginxProcess;
let lb: string;

before(async () => {
  [up, redis, postgres] = await Promise.all([startFakeUpstream(), startRedis(), startPostgres()]);
  const config = {
    providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
    models: { "gpt-4o-mini": "fake/gpt-4o-mini" },
    prices: { "gpt-4o-mini": PRICE },
    clients: [
      { name: "rpm", keyEnv: "RPM", limits: { rpm: 100 } },
      { name: "budget", keyEnv: "BUDGET", budget: { usd: 0.2, period: "month" } },
      { name: "conc", keyEnv: "CONC", limits: { concurrency: 2 } },
      { name: "local", keyEnv: "LOCAL", limits: { rpm: 10 } },
      { name: "ops", keyEnv: "ADMIN", admin: true },
    ],
    limits: { store: redis.url, expectedReplicas: 2, leaseTtl: 2 },
    usage: { store: postgres.url },
  };
  const env = { UPSTREAM_KEY: "sk-rep-upstream-0123456789", RPM: KEYS.rpm, BUDGET: KEYS.budget, CONC: KEYS.conc, LOCAL: KEYS.local, ADMIN: KEYS.admin };
  // Both kept even when one fails to start, so that after() stops the other: a process left
  // running would hold this test file open for good.
  const started = await Promise.allSettled([startGateway({ env, config }), startGateway({ env, config })]);
  [a, b] = started.map((s) => (s.status === "fulfilled" ? s.value : undefined)) as [GatewayProcess, GatewayProcess];
  const failed = started.find((s) => s.status === "rejected");
  if (failed) throw failed.reason;
  // The shipped nginx.conf, pointed at these two processes and kept inside its temp folder.
  const port = await freePort();
  const conf = readFileSync(join(PACKAGE_DIR, "../../deploy/replicas/nginx.conf"), "utf8")
    .replace("server gateway-1:8080", `server 127.0.0.1:${new URL(a.origin).port}`)
    .replace("server gateway-2:8080", `server 127.0.0.1:${new URL(b.origin).port}`)
    .replace("listen 8080;", `listen 127.0.0.1:${port};`)
    .replaceAll("/tmp/", "{{TMP}}/");
  nginx = await startNginx(conf, { port });
  lb = `http://127.0.0.1:${port}`;
}, { timeout: 10 * 60_000 });
after(async () => {
  await nginx?.stop();
  await Promise.all([a?.stop(), b?.stop()]);
  await Promise.all([redis?.stop(), postgres?.stop(), up?.close()]);
});

const chat = (origin: string, key: string, extra: object = {}, signal?: AbortSignal) =>
  fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", max_tokens: 5, messages: [{ role: "user", content: "hi there" }], ...extra }),
    ...(signal ? { signal } : {}),
  });
const json = async (origin: string, key: string, path: string) => {
  const res = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json() as Promise<any>;
};
const metric = async (gw: GatewayProcess, name: string) => Number(/^(\S+) (\S+)$/m.exec((await (await fetch(`${gw.origin}/metrics`)).text()).split("\n").filter((l) => l.startsWith(name + " ")).join("\n"))?.[2]);

/** The chat completions a replica answered with 200, from its own metrics. */
const chatsServed = async (gw: GatewayProcess) =>
  (await (await fetch(`${gw.origin}/metrics`)).text())
    .split("\n")
    .filter((l) => l.startsWith("gateway_requests_total{") && l.includes('route="/v1/chat/completions"') && l.includes('status="200"'))
    .reduce((n, l) => n + Number(l.split(" ").at(-1)), 0);

describe("two replicas on one Redis and one Postgres, behind nginx", () => {
  test("150 concurrent requests through nginx against rpm 100: exactly 100 answered, as one process would", T, async () => {
    const started = Date.now();
    const answers = await Promise.all(Array.from({ length: 150 }, () => chat(lb, KEYS.rpm)));
    const elapsed = Date.now() - started;
    const ok = answers.filter((r) => r.status === 200).length;
    assert.equal(answers.filter((r) => r.status === 429).length + ok, 150);
    // What one process allows: the minute's 100 at once, plus one for every 600 ms the burst took
    // to arrive (GCRA refills at the rate). Two replicas must admit that, within 1%.
    const oneProcess = 100 + Math.floor(elapsed / 600);
    assert.ok(ok >= 100 && ok <= oneProcess + 1, `answered ${ok}; one process would allow ${oneProcess} in ${elapsed} ms`);
    // Both replicas answered some: nginx spread the requests, and the count held across them.
    const served = await Promise.all([a, b].map(async (gw) => chatsServed(gw)));
    assert.ok(served.every((n) => n > 20), `answered per replica: ${served}`);
  });

  test("a budget's spend in Redis is what the usage records in Postgres add up to, read from either replica", T, async () => {
    let spent = 0;
    let refused = false;
    for (let i = 0; i < 80 && !refused; i++) {
      const res = await chat(i % 2 ? a.origin : b.origin, KEYS.budget);
      if (res.status !== 200) {
        assert.equal(((await res.json()) as any).error.code, "insufficient_quota");
        refused = true;
        continue;
      }
      const usage = ((await res.json()) as any).usage;
      spent += (usage.prompt_tokens + usage.completion_tokens) * PRICE.input;
    }
    assert.ok(refused, "the budget ran out, whichever replica was asked");
    const limits = await json(a.origin, KEYS.budget, "/usage/limits");
    assert.equal(Math.round(limits.budget.spent_usd * 1e6), spent);
    assert.ok(spent <= 200_000);
    // Each replica writes its own rows; either reads all of them.
    for (const gw of [a, b]) await fetch(`${gw.origin}/usage`, { headers: { authorization: `Bearer ${KEYS.budget}` } });
    const fromB = await json(b.origin, KEYS.admin, "/usage?group_by=key&key=budget");
    assert.equal(Math.round(fromB.data[0].cost_usd * 1e6), spent, "the records add up to the spend");
  });

  test("a replica killed mid-stream: its leases hold the key's places until they expire (limits.leaseTtl)", T, async () => {
    up.setDefault("/v1/chat/completions", { kind: "slow-stream", chunkDelayMs: 200 });
    const streams = await Promise.all([0, 1].map(() => chat(a.origin, KEYS.conc, { stream: true })));
    assert.deepEqual(streams.map((s) => s.status), [200, 200]);
    await a.stop("SIGKILL");
    up.setDefault("/v1/chat/completions", { kind: "ok" });
    const blocked = await chat(b.origin, KEYS.conc);
    assert.equal(blocked.status, 429, "the dead replica's two leases still count");
    assert.match(((await blocked.json()) as any).error.message, /concurrency/);
    let freed: number | undefined;
    const started = Date.now();
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
      if ((await chat(b.origin, KEYS.conc)).status === 200) {
        freed = Date.now() - started;
        break;
      }
    }
    assert.ok(freed !== undefined && freed <= 3000, `places freed after ${freed} ms (leaseTtl 2 s)`);
  });

  test("Redis stopped: limit / expectedReplicas locally, budgets refused; Redis started: shared again", T, async () => {
    const port = redis.port;
    await redis.stop();
    const answers = await Promise.all(Array.from({ length: 10 }, () => chat(b.origin, KEYS.local)));
    assert.equal(answers.filter((r) => r.status === 200).length, 5, "rpm 10 over 2 expected replicas");
    const budgeted = await chat(b.origin, KEYS.budget);
    assert.equal(budgeted.status, 503);
    assert.equal(((await budgeted.json()) as any).error.code, "budget_unavailable");
    assert.equal(await metric(b, "gateway_limit_store_up"), 0);
    assert.ok((await metric(b, "gateway_limit_store_fallbacks_total")) >= 11);
    assert.ok(b.lines.some((l) => /limit store unreachable/.test(l)), "the outage is logged");

    redis = await startRedis({ port });
    let back = false;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && !back; await new Promise((r) => setTimeout(r, 200))) {
      back = (await json(b.origin, KEYS.rpm, "/usage/limits")).store === "redis";
    }
    assert.ok(back, "the replica uses Redis again by itself");
    assert.equal(await metric(b, "gateway_limit_store_up"), 1);
    assert.ok(b.lines.some((l) => /limit store reachable again/.test(l)));
    // A fresh Redis: the key's count starts over there, shared (10, not 5).
    const after = await Promise.all(Array.from({ length: 15 }, () => chat(b.origin, KEYS.local)));
    assert.equal(after.filter((r) => r.status === 200).length, 10);
  });
});
