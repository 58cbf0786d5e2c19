/**
 * The memory store's arithmetic on a clock of the test's own: GCRA admits a minute's worth at once
 * and then refills at the rate, one per interval (no window edge where a fresh minute's worth stacks
 * on top of a spent one, as with fixed windows), refuses all-or-nothing across a request's scopes
 * and budget, settles reservations both ways without going past a full bucket, gives leases back
 * once, and keeps budgets in exact integer micro-dollars per period.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KeyLimits } from "../src/config/types.ts";
import { periodOf } from "../src/limits/budget-period.ts";
import { MemoryLimitStore } from "../src/limits/memory-store.ts";
import { PriceTable } from "../src/limits/prices.ts";
import { isRefusal, type Ask, type BudgetScope, type Grant, type Refusal } from "../src/limits/types.ts";

const clock = () => {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};
const key = (limits: KeyLimits, name = "k") => ({ id: `key:${name}`, label: `key '${name}'`, limits });
const ask = (limits: KeyLimits, tokens = 1, extra: Partial<Ask> = {}): Ask => ({ scopes: [key(limits)], budget: undefined, tokens, costMicros: 0, ...extra });
const admitted = (r: Grant | Refusal): r is Grant => !isRefusal(r);

describe("MemoryLimitStore", () => {
  test("rpm 6: six at once, then one every 10 s", () => {
    const c = clock();
    const store = new MemoryLimitStore(c.now);
    const first = Array.from({ length: 8 }, () => store.admitNow(ask({ rpm: 6 })));
    assert.equal(first.filter(admitted).length, 6);
    const refused = first.find((r) => !admitted(r)) as Refusal & { kind: "requests" };
    assert.equal(refused.kind, "requests");
    assert.equal(refused.retryAfterMs, 10_000);
    c.advance(9_999);
    assert.equal(admitted(store.admitNow(ask({ rpm: 6 }))), false);
    c.advance(1);
    assert.equal(admitted(store.admitNow(ask({ rpm: 6 }))), true);
    // 50 s later: what refilled in those 50 s (5), not a fresh 6 because a new minute began.
    c.advance(50_000);
    const more = Array.from({ length: 10 }, () => store.admitNow(ask({ rpm: 6 }))).filter(admitted).length;
    assert.equal(more, 5);
    void store.close();
  });

  test("all or nothing: a request refused for tokens has not used a request", () => {
    const store = new MemoryLimitStore(clock().now);
    assert.ok(admitted(store.admitNow(ask({ rpm: 2, tpm: 100 }, 90))));
    const refused = store.admitNow(ask({ rpm: 2, tpm: 100 }, 50));
    assert.equal((refused as Refusal).kind, "tokens");
    const ok = store.admitNow(ask({ rpm: 2, tpm: 100 }, 5));
    assert.ok(admitted(ok));
    assert.equal(ok.requests?.remaining, 0, "two requests used, not three");
    void store.close();
  });

  test("all or nothing across scopes: refused by its model's limit, a request has not used its key's", () => {
    const store = new MemoryLimitStore(clock().now);
    const model = { id: "model:m", label: "model 'm'", limits: { rpm: 1 } };
    assert.ok(admitted(store.admitNow({ scopes: [key({ rpm: 5 }), model], budget: undefined, tokens: 1, costMicros: 0 })));
    const refused = store.admitNow({ scopes: [key({ rpm: 5 }), model], budget: undefined, tokens: 1, costMicros: 0 }) as Refusal & { scope: string };
    assert.equal(refused.kind, "requests");
    assert.equal(refused.scope, "model 'm'");
    const other = store.admitNow(ask({ rpm: 5 })) as Grant;
    assert.equal(other.requests?.remaining, 3, "the key has used two (the first request and this one), not three");
    void store.close();
  });

  test("settling gives back what was not used, charges what was, and never beyond a full bucket", () => {
    const c = clock();
    const store = new MemoryLimitStore(c.now);
    const a = store.admitNow(ask({ tpm: 1000 }, 600)) as Grant;
    assert.equal(a.tokens?.remaining, 400);
    a.settle(100, 0);
    const b = store.admitNow(ask({ tpm: 1000 }, 0)) as Grant;
    assert.equal(b.tokens?.remaining, 900);
    b.settle(0, 0);
    const big = store.admitNow(ask({ tpm: 1000 }, 900)) as Grant;
    big.settle(1500, 0);
    assert.equal((store.admitNow(ask({ tpm: 1000 }, 1)) as Refusal).kind, "tokens", "the overrun is charged");
    c.advance(120_000);
    const full = store.admitNow(ask({ tpm: 1000 }, 0)) as Grant;
    assert.equal(full.tokens?.remaining, 1000, "no more than full after a long rest");
    full.settle(0, 0);
    void store.close();
  });

  test("concurrency: leases go back exactly once; an estimate over the limit is hopeless", () => {
    const store = new MemoryLimitStore(clock().now);
    const a = store.admitNow(ask({ concurrency: 1 })) as Grant;
    assert.equal((store.admitNow(ask({ concurrency: 1 })) as Refusal).kind, "concurrency");
    a.settle(1, 0);
    a.settle(1, 0);
    const b = store.admitNow(ask({ concurrency: 1 }));
    assert.ok(admitted(b));
    assert.equal((store.admitNow(ask({ concurrency: 1 })) as Refusal).kind, "concurrency", "released once: the second settle gave nothing back");
    assert.equal((store.admitNow({ ...ask({ tpm: 10 }, 11) }) as Refusal & { hopeless: boolean }).hopeless, true);
    void store.close();
  });

  test("budgets: reserved up front, settled to the cost, refused once spent, in exact micro-dollars", () => {
    const store = new MemoryLimitStore(clock().now);
    const budget: BudgetScope = { id: "budget:k:2026-12", label: "key 'k'", limitMicros: 2_000_000, resetsAt: undefined };
    const withBudget = (costMicros: number): Ask => ({ scopes: [], budget, tokens: 0, costMicros });
    // Five of $0.10 and five of $0.20: $1.50 exactly (0.1 + 0.2 is not 0.3 in floating-point dollars).
    for (let i = 0; i < 10; i++) (store.admitNow(withBudget(300_000)) as Grant).settle(0, i % 2 === 0 ? 100_000 : 200_000);
    const refused = store.admitNow(withBudget(600_000)) as Refusal & { kind: "budget" };
    assert.equal(refused.kind, "budget");
    assert.equal(refused.spentMicros, 1_500_000);
    assert.equal(refused.requestedMicros, 600_000);
    const last = store.admitNow(withBudget(500_000)) as Grant;
    assert.ok(admitted(last), "up to the limit exactly is allowed");
    assert.equal(last.spentMicros, 2_000_000);
    assert.equal((store.admitNow(withBudget(1)) as Refusal).kind, "budget");
    last.settle(0, 0);
    assert.ok(admitted(store.admitNow(withBudget(500_000))), "a request that cost nothing gives its reservation back");
    // A new period is a new scope id: it starts from nothing.
    assert.ok(admitted(store.admitNow({ ...withBudget(1_900_000), budget: { ...budget, id: "budget:k:2027-01" } })));
    void store.close();
  });
});

describe("budget periods (UTC)", () => {
  const at = Date.parse("2026-12-02T11:00:00Z"); // a Wednesday
  test("day, ISO week from Monday, calendar month, total", () => {
    assert.deepEqual(periodOf("day", at), { id: "2026-12-02", startsAt: Date.parse("2026-12-02T00:00:00Z"), resetsAt: Date.parse("2026-12-03T00:00:00Z") });
    assert.deepEqual(periodOf("week", at), { id: "week-2026-11-30", startsAt: Date.parse("2026-11-30T00:00:00Z"), resetsAt: Date.parse("2026-12-07T00:00:00Z") });
    assert.equal(periodOf("week", Date.parse("2026-12-06T23:59:59Z")).id, "week-2026-11-30", "Sunday is the week's last day");
    assert.deepEqual(periodOf("month", Date.parse("2026-12-31T23:59:59Z")), { id: "2026-12", startsAt: Date.parse("2026-12-01T00:00:00Z"), resetsAt: Date.parse("2027-01-01T00:00:00Z") });
    assert.deepEqual(periodOf("total", at), { id: "total", startsAt: 0, resetsAt: undefined });
  });
});

describe("PriceTable", () => {
  test("built-in prices, dated snapshots, overrides and `*`; costs rounded up to whole micro-dollars", () => {
    const table = new PriceTable({ "gpt-4o-mini": { input: 0.2, output: 0.8 }, "my-model": { input: 1, output: 2, cachedInput: 0.5 } });
    // gpt-4o: $2.50 in, $1.25 cached, $10 out per 1M: 1000 prompt (400 cached) + 500 completion.
    assert.equal(PriceTable.costOf(table.priceOf("gpt-4o-2024-08-06"), { prompt: 1000, cached: 400, completion: 500 }), 600 * 2.5 + 400 * 1.25 + 500 * 10);
    assert.equal(PriceTable.costOf(table.priceOf("gpt-4o-mini"), { prompt: 1000, cached: 0, completion: 1000 }), 1000, "the override wins");
    assert.equal(PriceTable.costOf(table.priceOf("gpt-4o-mini"), { prompt: 1, cached: 0, completion: 0 }), 1, "a fifth of a micro-dollar rounds up");
    assert.equal(table.priceOf("unknown-model"), undefined);
    assert.equal(table.priceOf("upstream-name", "my-model")?.input, 1000, "the public name prices what the upstream name does not");
    const withDefault = new PriceTable({ "*": { input: 1, output: 1 } });
    assert.equal(PriceTable.costOf(withDefault.priceOf("unknown-model"), { prompt: 10, cached: 0, completion: 10 }), 20);
    assert.equal(PriceTable.dearest([table.priceOf("gpt-4o"), table.priceOf("gpt-4o-mini")])?.output, 10_000);
    assert.equal(PriceTable.dearest([table.priceOf("gpt-4o"), undefined]), undefined, "one unpriced target makes the model unpriced");
  });
});
