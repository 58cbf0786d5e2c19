/**
 * The Redis limit store against a real redis-server (Debian's, installed by scripts/redis-tools.sh,
 * started on a free port by the test). Redis keeps its own clock (TIME), so there is no fake clock
 * here: the limits are chosen so that what refills while a test runs (one token per 6 s, one request
 * per 15 s or more) does not change an answer. It answers what the memory store answers, across two
 * stores ("replicas") on one Redis as well; its keys expire once idle; leases of a store that dies
 * expire while a live store's are renewed; with Redis stopped it limits locally at
 * limit / expectedReplicas and refuses budgets, and once Redis is back the replicas share again.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startRedis, type RedisProcess } from "@mcpgw/test-support";
import { Redis } from "ioredis";
import { MemoryLimitStore } from "../src/limits/memory-store.ts";
import { RedisLimitStore, type RedisStoreOptions } from "../src/limits/redis-store.ts";
import { isRefusal, type Ask, type BudgetScope, type Grant, type LimitStore, type RateScope, type Refusal } from "../src/limits/types.ts";

const T = { timeout: 30_000 };
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
let redis: RedisProcess;
const stores: LimitStore[] = [];
let prefixes = 0;

before(async () => {
  redis = await startRedis();
}, { timeout: 10 * 60_000 });
after(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await redis?.stop();
});

/** A store with a key space of its test's own; stores of one test share it, as replicas do. */
async function store(opts: Partial<RedisStoreOptions> = {}): Promise<RedisLimitStore> {
  const s = new RedisLimitStore({ url: redis.url, leaseTtlMs: 30_000, expectedReplicas: 1, log: quiet, prefix: `t${prefixes}:`, ...opts });
  stores.push(s);
  assert.equal(await s.connected(), true, "the store connects to Redis");
  return s;
}
/** Polls `check` every 20 ms until it holds, for `ms` at most. */
async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  for (const deadline = Date.now() + ms; !(await check()); await sleep(20)) if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const recording = () => {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (_: object, msg: string) => void lines.push({ level, msg });
  return { lines, log: { info: at("info"), warn: at("warn"), error: at("error") } };
};
const scope = (limits: RateScope["limits"], id = "key:k"): RateScope => ({ id, label: id, limits });
const ask = (scopes: RateScope[], tokens = 1, extra: Partial<Ask> = {}): Ask => ({ scopes, budget: undefined, tokens, costMicros: 0, ...extra });
const admitted = (r: Grant | Refusal): r is Grant => !isRefusal(r);
const grant = (r: Grant | Refusal): Grant => {
  assert.ok(admitted(r), `refused: ${JSON.stringify(r)}`);
  return r;
};

/** What a store answers, without retry-after (real time passes between the answers). */
function answer(r: Grant | Refusal): string {
  if (admitted(r)) return `ok requests ${r.requests?.remaining}/${r.requests?.limit} tokens ${r.tokens?.remaining}/${r.tokens?.limit} spent ${r.spentMicros}`;
  if (r.kind === "unavailable") return "unavailable";
  if (r.kind === "budget") return `budget ${r.scope} spent ${r.spentMicros} of ${r.limitMicros}, asked ${r.requestedMicros}`;
  assert.ok(r.retryAfterMs > 0);
  return `${r.kind} ${r.scope} used ${r.used}/${r.limit}${r.hopeless ? " hopeless" : ""}`;
}

/** One sequence of asks and settlements over two scopes and a budget; every answer, in order. */
async function scenario(s: LimitStore): Promise<string[]> {
  const key = scope({ rpm: 4, tpm: 10, concurrency: 2 });
  const model = scope({ rpm: 2 }, "model:m");
  const budget: BudgetScope = { id: "budget:k:2026-12", label: "key 'k'", limitMicros: 1_000_000, resetsAt: Date.now() + 86_400_000 };
  const out: string[] = [];
  const admit = async (a: Ask) => {
    const r = await s.admit(a);
    out.push(answer(r));
    return r;
  };
  const peek = async () => {
    const p = await s.peek([key, model], budget);
    const [k, m] = p.scopes;
    out.push(`peek key ${k!.requests?.remaining} ${k!.tokens?.remaining} in flight ${k!.inFlight}, model ${m!.requests?.remaining}, spent ${p.spentMicros}`);
  };
  const g1 = grant(await admit(ask([key, model], 6, { budget, costMicros: 400_000 })));
  await admit(ask([key, model], 5)); // over the key's tokens: the model's request is not used either
  await admit(ask([key], 0, { budget, costMicros: 700_000 })); // over budget: the key's request is not used
  const g2 = grant(await admit(ask([key], 1)));
  await admit(ask([key], 0)); // two in flight
  g1.settle(2, 250_000); // 4 tokens and 150,000 micros back
  const g3 = grant(await admit(ask([key, model], 2, { budget, costMicros: 750_000 })));
  await admit(ask([key], 0));
  g2.settle(4, 0); // 3 tokens more
  g3.settle(2, 750_000);
  await admit(ask([key, model], 0)); // the model's 2 requests are used
  await admit(ask([key], 3));
  const g4 = grant(await admit(ask([key], 2)));
  await admit(ask([key], 0)); // the key's 4 requests are used
  await admit(ask([], 0, { budget, costMicros: 1 }));
  await admit(ask([scope({ tpm: 10 }, "key:h")], 11));
  await peek();
  g4.settle(0, 0);
  g4.settle(5, 5); // a second settle changes nothing
  await peek();
  return out;
}

describe("RedisLimitStore", () => {
  test("the same asks get the same answers from the memory store and from Redis", T, async () => {
    prefixes++;
    const memory = new MemoryLimitStore();
    stores.push(memory);
    const s = await store();
    const started = Date.now();
    const [viaMemory, viaRedis] = [await scenario(memory), await scenario(s)];
    assert.ok(Date.now() - started < 6000, "nothing refilled meanwhile");
    assert.deepEqual(viaRedis, viaMemory);
    assert.deepEqual(viaRedis, [
      "ok requests 1/2 tokens 4/10 spent 400000",
      "tokens key:k used 6/10",
      "budget key 'k' spent 400000 of 1000000, asked 700000",
      "ok requests 2/4 tokens 3/10 spent undefined",
      "concurrency key:k used 2/2",
      "ok requests 0/2 tokens 5/10 spent 1000000",
      "concurrency key:k used 2/2",
      "requests model:m used 2/2",
      "tokens key:k used 8/10",
      "ok requests 0/4 tokens 0/10 spent undefined",
      "requests key:k used 4/4",
      "budget key 'k' spent 1000000 of 1000000, asked 1",
      "tokens key:h used 0/10 hopeless",
      "peek key 0 0 in flight 1, model 0, spent 1000000",
      "peek key 0 2 in flight 0, model 0, spent 1000000",
    ]);
  });

  test("80 concurrent asks against rpm 50 admit exactly 50, as the memory store does", T, async () => {
    prefixes++;
    const memory = new MemoryLimitStore();
    stores.push(memory);
    const s = await store();
    const [viaRedis, viaMemory] = await Promise.all([s, memory].map(async (st) => (await Promise.all(Array.from({ length: 80 }, () => st.admit(ask([scope({ rpm: 50 })]))))).filter(admitted).length));
    assert.equal(viaRedis, 50);
    assert.equal(viaMemory, 50);
    const refused = (await s.admit(ask([scope({ rpm: 50 })]))) as Refusal & { retryAfterMs: number };
    assert.equal(refused.kind, "requests");
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 1200, `one request refills in 1.2 s: ${refused.retryAfterMs}`);
  });

  test("two replicas on one Redis: 100 concurrent asks split between them against rpm 40 admit exactly 40", T, async () => {
    prefixes++;
    const [a, b] = await Promise.all([store(), store()]);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).admit(ask([scope({ rpm: 40 })]))));
    assert.equal(results.filter(admitted).length, 40);
  });

  test("budgets in integer micro-dollars add up exactly over 1,000 requests on two replicas", T, async () => {
    prefixes++;
    const [a, b] = await Promise.all([store(), store()]);
    const budget: BudgetScope = { id: "budget:k:2026-12", label: "key 'k'", limitMicros: 1_000_000, resetsAt: Date.now() + 86_400_000 };
    const grants = await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).admit(ask([], 0, { budget, costMicros: 1_000 }))));
    assert.equal(grants.filter(admitted).length, 1000, "1,000 reservations of 1,000 micros fit a budget of 1,000,000 exactly");
    assert.equal(((await a.admit(ask([], 0, { budget, costMicros: 1 }))) as Refusal).kind, "budget");
    grants.forEach((g, i) => (g as Grant).settle(0, 333 + (i % 3)));
    await until("every settlement is in", async () => (await b.peek([], budget)).spentMicros === 333_999);
    assert.equal((await a.peek([], budget)).spentMicros, 333_999, "333, 334 or 335 each, to the micro-dollar");
    assert.ok(admitted(await b.admit(ask([], 0, { budget, costMicros: 666_001 }))), "up to the limit exactly");
    assert.equal(((await a.admit(ask([], 0, { budget, costMicros: 1 }))) as Refusal).kind, "budget");
  });

  test("keys: namespaced, passed to the scripts, and gone once idle (tats and leases expire, a period's budget at its end)", T, async () => {
    prefixes++;
    const s = await store({ leaseTtlMs: 5_000 });
    const raw = new Redis(redis.url);
    try {
      const month: BudgetScope = { id: "budget:k:2026-12", label: "key 'k'", limitMicros: 100, resetsAt: Date.now() + 86_400_000 };
      grant(await s.admit(ask([scope({ rpm: 60, tpm: 600, concurrency: 1 })], 30, { budget: month, costMicros: 7 })));
      const total: BudgetScope = { id: "budget:k:total", label: "key 'k'", limitMicros: 100, resetsAt: undefined };
      grant(await s.admit(ask([], 0, { budget: total, costMicros: 7 })));
      const p = `t${prefixes}:`;
      assert.deepEqual((await raw.keys(`${p}*`)).sort(), [`${p}budget:k:2026-12`, `${p}budget:k:total`, `${p}ls:key:k`, `${p}rq:key:k`, `${p}tk:key:k`]);
      // One request of 60 rpm is a second ahead, 30 tokens of 600 tpm three: whole again then, gone a second later.
      const [rq, tk, ls] = await Promise.all([raw.pttl(`${p}rq:key:k`), raw.pttl(`${p}tk:key:k`), raw.pttl(`${p}ls:key:k`)]);
      assert.ok(rq > 1000 && rq <= 2000, `requests tat ttl ${rq}`);
      assert.ok(tk > 3000 && tk <= 4000, `tokens tat ttl ${tk}`);
      assert.ok(ls > 5000 && ls <= 10_000, `leases ttl ${ls}`);
      const ends = await raw.pexpiretime(`${p}budget:k:2026-12`);
      assert.ok(ends > month.resetsAt! && ends <= month.resetsAt! + 3_600_000, "a period's counter goes a margin after the period");
      assert.equal(await raw.pttl(`${p}budget:k:total`), -1, "a total budget never expires");
      assert.equal(await raw.get(`${p}budget:k:2026-12`), "7");
    } finally {
      raw.disconnect();
    }
  });

  test("concurrency: two held, the third refused, admitted once one settles", T, async () => {
    prefixes++;
    const s = await store();
    const conc = scope({ concurrency: 2 });
    const [first, second] = [grant(await s.admit(ask([conc]))), grant(await s.admit(ask([conc])))];
    const third = (await s.admit(ask([conc]))) as Refusal & { kind: "concurrency" };
    assert.equal(third.kind, "concurrency");
    assert.equal(third.used, 2);
    first.settle(1, 0);
    assert.ok(admitted(await s.admit(ask([conc]))), "the settled lease went back");
    assert.equal((await s.peek([conc], undefined)).scopes[0]!.inFlight, 2);
    second.settle(1, 0);
  });

  test("leases: a dead replica's expire after leaseTtl; a live one's are renewed past it", T, async () => {
    prefixes++;
    const ttl = 600;
    const [live, dying] = await Promise.all([store({ leaseTtlMs: ttl }), store({ leaseTtlMs: ttl })]);
    const conc = scope({ concurrency: 2 });
    const heldAt = Date.now();
    const held = grant(await live.admit(ask([conc])));
    grant(await dying.admit(ask([conc])));
    assert.equal(((await live.admit(ask([conc]))) as Refusal).kind, "concurrency");
    // The dying replica goes without settling (a crash): its lease is not renewed any more.
    await dying.close();
    const closedAt = Date.now();
    await until("the dead replica's lease expires", async () => (await live.peek([conc], undefined)).scopes[0]!.inFlight === 1, 5_000);
    assert.ok(Date.now() - closedAt >= ttl - ttl / 3 - 50, "not before its ttl");
    // Well past the first lease's own ttl, renewal keeps it.
    await sleep(Math.max(0, heldAt + 2.5 * ttl - Date.now()));
    assert.equal((await live.peek([conc], undefined)).scopes[0]!.inFlight, 1, "the live lease was renewed");
    const again = grant(await live.admit(ask([conc])));
    assert.equal(((await live.admit(ask([conc]))) as Refusal).kind, "concurrency", "the renewed lease still holds its place");
    held.settle(1, 0);
    again.settle(1, 0);
  });

  test("Redis stopped: limits local at limit / expectedReplicas, budgets refused; Redis back: shared again", { timeout: 60_000 }, async () => {
    prefixes++;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    const reasons: string[] = [];
    let recovered = 0;
    const logA = recording();
    const hooks = { expectedReplicas: 2, leaseTtlMs: 600, onFallback: (r: string) => reasons.push(r), onRecovered: () => recovered++ };
    const [a, b] = await Promise.all([store({ ...hooks, log: logA.log }), store(hooks)]);
    const inRedis = grant(await a.admit(ask([scope({ concurrency: 5 }, "key:held")], 10)));
    const port = redis.port;
    await redis.stop();
    const stoppedAt = Date.now();

    const locally = (await Promise.all(Array.from({ length: 20 }, () => a.admit(ask([scope({ rpm: 10 })]))))).filter(admitted).length;
    assert.equal(locally, 5, "rpm 10 over 2 expected replicas");
    assert.ok(Date.now() - stoppedAt < 2000, "an outage fails fast");
    assert.equal(a.kind, "local");
    assert.equal(a.up, false);
    assert.equal(reasons.length, 20);
    assert.equal(((await a.admit(ask([], 0, { budget: { id: "budget:k:total", label: "key 'k'", limitMicros: 10, resetsAt: undefined }, costMicros: 1 }))) as Refusal).kind, "unavailable");
    assert.ok(admitted(await b.admit(ask([scope({ rpm: 10 }, "key:b")]))), "the other replica limits locally too");
    // A local grant settles locally: concurrency 2 over 2 replicas is 1 here.
    const local = grant(await a.admit(ask([scope({ concurrency: 2 }, "key:c")])));
    assert.equal(((await a.admit(ask([scope({ concurrency: 2 }, "key:c")]))) as Refusal).kind, "concurrency");
    local.settle(1, 0);
    assert.ok(admitted(await a.admit(ask([scope({ concurrency: 2 }, "key:c")]))));
    assert.equal((await a.peek([scope({ rpm: 10 })], undefined)).scopes[0]!.requests?.remaining, 0, "peek reads the local store");
    // A grant Redis admitted settles into an outage: logged, never thrown.
    assert.doesNotThrow(() => inRedis.settle(10, 0));
    await until("the lost settlement is logged", () => logA.lines.some((l) => l.msg.includes("settlement was lost")));
    assert.equal(logA.lines.filter((l) => l.msg.startsWith("limit store unreachable")).length, 1, "one warning per outage");

    redis = await startRedis({ port });
    await until("both stores use Redis again", () => a.up && b.up);
    assert.equal(a.kind, "redis");
    assert.equal(recovered, 2);
    assert.equal(logA.lines.filter((l) => l.level === "info" && l.msg.includes("reachable again")).length, 1);
    // Shared again: 10 between the two replicas, not 10 each.
    const shared = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).admit(ask([scope({ rpm: 10 }, "key:after")]))));
    assert.equal(shared.filter(admitted).length, 10);
    await sleep(50);
    process.off("unhandledRejection", onUnhandled);
    assert.deepEqual(unhandled, []);
  });
});
