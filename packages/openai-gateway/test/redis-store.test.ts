/**
 * The Redis limit store against a real redis-server (Debian's, installed by scripts/redis-tools.sh,
 * started on a free port by the test): it admits exactly what the memory store admits, across two
 * stores ("replicas") on one Redis as well; leases of a store that dies expire while a live store's
 * are renewed; with Redis stopped it limits locally at limit / expectedReplicas and refuses budgets,
 * and once Redis is back the replicas share their counts again.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startRedis, type RedisProcess } from "@mcpgw/test-support";
import { MemoryLimitStore } from "../src/limits/memory-store.ts";
import { RedisLimitStore, type RedisStoreOptions } from "../src/limits/redis-store.ts";
import { isRefusal, type Ask, type Grant, type LimitStore, type RateScope, type Refusal } from "../src/limits/types.ts";

const T = { timeout: 30_000 };
const quiet = { info: () => {}, warn: () => {} };
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

/** A store of its own key space per test (unless `prefix` is shared, as replicas share one). */
function store(opts: Partial<RedisStoreOptions> = {}): RedisLimitStore {
  const s = new RedisLimitStore({ url: redis.url, leaseTtlMs: 30_000, expectedReplicas: 1, log: quiet, prefix: `t${prefixes}:`, ...opts });
  stores.push(s);
  return s;
}
async function ready(s: RedisLimitStore): Promise<void> {
  for (const deadline = Date.now() + 10_000; !s.up; await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() > deadline) throw new Error("the store never connected");
    await s.peek([], undefined);
  }
}
const scope = (limits: RateScope["limits"], id = "key:k"): RateScope => ({ id, label: id, limits });
const ask = (scopes: RateScope[], tokens = 1, extra: Partial<Ask> = {}): Ask => ({ scopes, budget: undefined, tokens, costMicros: 0, ...extra });
const admitted = (r: Grant | Refusal): r is Grant => !isRefusal(r);

describe("RedisLimitStore", () => {
  test("80 concurrent asks against rpm 50 admit exactly 50, as the memory store does", T, async () => {
    prefixes++;
    const s = store();
    await ready(s);
    const memory = new MemoryLimitStore();
    stores.push(memory);
    const [viaRedis, viaMemory] = await Promise.all([s, memory].map(async (st) => (await Promise.all(Array.from({ length: 80 }, () => st.admit(ask([scope({ rpm: 50 })]))))).filter(admitted).length));
    assert.equal(viaRedis, 50);
    assert.equal(viaMemory, 50);
    const refused = (await s.admit(ask([scope({ rpm: 50 })]))) as Refusal & { retryAfterMs: number };
    assert.equal(refused.kind, "requests");
    assert.ok(refused.retryAfterMs > 0 && refused.retryAfterMs <= 1200, `one request refills in 1.2 s: ${refused.retryAfterMs}`);
  });

  test("two replicas on one Redis: 100 concurrent asks split between them against rpm 40 admit exactly 40", T, async () => {
    prefixes++;
    const [a, b] = [store(), store()];
    await Promise.all([ready(a), ready(b)]);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).admit(ask([scope({ rpm: 40 })]))));
    assert.equal(results.filter(admitted).length, 40);
  });

  test("all or nothing across scopes; tokens reserved and settled both ways; headers from the tightest scope", T, async () => {
    prefixes++;
    const s = store();
    await ready(s);
    const key = scope({ rpm: 5, tpm: 1000 });
    const model = scope({ rpm: 1 }, "model:m");
    const first = (await s.admit(ask([key, model], 600))) as Grant;
    assert.ok(admitted(first));
    assert.equal(first.requests?.remaining, 0, "the model's scope is the tightest");
    assert.equal(first.tokens?.remaining, 400);
    const refused = (await s.admit(ask([key, model], 1))) as Refusal & { scope: string };
    assert.equal(refused.kind, "requests");
    assert.equal(refused.scope, "model:m");
    first.settle(100, 0);
    await new Promise((r) => setTimeout(r, 100));
    const next = (await s.admit(ask([key], 0))) as Grant;
    assert.equal(next.requests?.remaining, 3, "the key has used two: the refused request used none");
    // 500 unused tokens came back (and a few refilled in the real time the test took: one each 60 ms).
    assert.ok(next.tokens!.remaining >= 900 && next.tokens!.remaining < 920, `${next.tokens!.remaining}`);
    next.settle(1500, 0);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(((await s.admit(ask([key], 1))) as Refusal).kind, "tokens", "the overrun is charged");
    const hopeless = (await s.admit(ask([scope({ tpm: 10 }, "key:h")], 11))) as Refusal & { hopeless: boolean };
    assert.equal(hopeless.hopeless, true);
  });

  test("budgets: reserved, settled to the cost, refused once spent, exact over many requests", T, async () => {
    prefixes++;
    const [a, b] = [store(), store()];
    await Promise.all([ready(a), ready(b)]);
    const budget = { id: "budget:k:2026-12", label: "key 'k'", limitMicros: 2_000_000, resetsAt: Date.now() + 86_400_000 };
    const withBudget = (costMicros: number): Ask => ({ scopes: [], budget, tokens: 0, costMicros });
    const grants = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).admit(withBudget(150_000))));
    assert.ok(grants.every(admitted));
    grants.forEach((g, i) => (g as Grant).settle(0, i % 2 === 0 ? 100_000 : 200_000));
    await new Promise((r) => setTimeout(r, 200));
    const refused = (await a.admit(withBudget(600_000))) as Refusal & { kind: "budget" };
    assert.equal(refused.kind, "budget");
    assert.equal(refused.spentMicros, 1_500_000);
    assert.equal((await b.peek([], budget)).spentMicros, 1_500_000);
    assert.ok(admitted(await b.admit(withBudget(500_000))), "up to the limit exactly");
    assert.equal(((await a.admit(withBudget(1))) as Refusal).kind, "budget");
  });

  test("leases: a dead replica's expire after leaseTtl; a live one's are renewed past it", T, async () => {
    prefixes++;
    const live = store({ leaseTtlMs: 600 });
    const dying = store({ leaseTtlMs: 600 });
    await Promise.all([ready(live), ready(dying)]);
    const conc = scope({ concurrency: 2 });
    const held = (await live.admit(ask([conc]))) as Grant;
    assert.ok(admitted(held));
    assert.ok(admitted(await dying.admit(ask([conc]))));
    assert.equal(((await live.admit(ask([conc]))) as Refusal).kind, "concurrency");
    // The dying replica goes without settling (a crash): its lease is not renewed any more.
    await dying.close();
    await new Promise((r) => setTimeout(r, 1500));
    const state = await live.peek([conc], undefined);
    assert.equal(state.scopes[0]!.inFlight, 1, "the live lease was renewed past its ttl; the dead one expired");
    const again = (await live.admit(ask([conc]))) as Grant;
    assert.ok(admitted(again), "the dead replica's place is free again");
    assert.equal(((await live.admit(ask([conc]))) as Refusal).kind, "concurrency", "the renewed lease still holds its place");
    held.settle(1, 0);
    again.settle(1, 0);
  });

  test("Redis stopped: limits local at limit / expectedReplicas, budgets refused; Redis back: shared again", { timeout: 60_000 }, async () => {
    prefixes++;
    let fallbacks = 0;
    let recovered = 0;
    const hooks = { expectedReplicas: 2, onFallback: () => fallbacks++, onRecovered: () => recovered++ };
    const [a, b] = [store(hooks), store(hooks)];
    await Promise.all([ready(a), ready(b)]);
    const port = redis.port;
    await redis.stop();
    const locally = (await Promise.all(Array.from({ length: 20 }, () => a.admit(ask([scope({ rpm: 10 })]))))).filter(admitted).length;
    assert.equal(locally, 5, "rpm 10 over 2 expected replicas");
    assert.equal(a.kind, "local");
    assert.ok(fallbacks >= 20);
    const budgeted = (await a.admit({ scopes: [], budget: { id: "budget:k:x", label: "key 'k'", limitMicros: 10, resetsAt: undefined }, tokens: 0, costMicros: 1 })) as Refusal;
    assert.equal(budgeted.kind, "unavailable");
    assert.ok(admitted(await b.admit(ask([scope({ rpm: 10 }, "key:b")]))), "the other replica limits locally too");

    redis = await startRedis({ port });
    await Promise.all([ready(a), ready(b)]);
    assert.equal(a.kind, "redis");
    assert.ok(recovered >= 2);
    // Shared again: 10 between the two replicas, not 10 each.
    const shared = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).admit(ask([scope({ rpm: 10 }, "key:after")]))));
    assert.equal(shared.filter(admitted).length, 10);
  });
});
