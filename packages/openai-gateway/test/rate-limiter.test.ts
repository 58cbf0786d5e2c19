/**
 * The limiter's arithmetic on a clock of the test's own: GCRA admits a minute's worth at once and
 * then refills at the rate, one per interval (no window edge where a fresh minute's worth stacks on
 * top of a spent one, as with fixed windows), refuses all-or-nothing,
 * settles reservations both ways without going past a full bucket, and gives leases back once.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RateLimiter, type Admitted, type Refusal } from "../src/limits/rate-limiter.ts";

const clock = () => {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};
const admitted = (r: Admitted | Refusal): r is Admitted => !("kind" in r);

describe("RateLimiter", () => {
  test("rpm 6: six at once, then one every 10 s", () => {
    const c = clock();
    const limiter = new RateLimiter(c.now);
    const first = Array.from({ length: 8 }, () => limiter.admit("k", { rpm: 6 }, 1));
    assert.equal(first.filter(admitted).length, 6);
    const refused = first.find((r) => !admitted(r)) as Refusal;
    assert.equal(refused.kind, "requests");
    assert.equal(refused.retryAfterMs, 10_000);
    c.advance(9_999);
    assert.equal(admitted(limiter.admit("k", { rpm: 6 }, 1)), false);
    c.advance(1);
    assert.equal(admitted(limiter.admit("k", { rpm: 6 }, 1)), true);
    // 50 s later: what refilled in those 50 s (5), not a fresh 6 because a new minute began.
    c.advance(50_000);
    const more = Array.from({ length: 10 }, () => limiter.admit("k", { rpm: 6 }, 1)).filter(admitted).length;
    assert.equal(more, 5);
  });

  test("all or nothing: a request refused for tokens has not used a request", () => {
    const c = clock();
    const limiter = new RateLimiter(c.now);
    assert.ok(admitted(limiter.admit("k", { rpm: 2, tpm: 100 }, 90)));
    const refused = limiter.admit("k", { rpm: 2, tpm: 100 }, 50);
    assert.equal((refused as Refusal).kind, "tokens");
    const ok = limiter.admit("k", { rpm: 2, tpm: 100 }, 5);
    assert.ok(admitted(ok));
    assert.equal(ok.requests?.remaining, 0, "two requests used, not three");
  });

  test("settling gives back what was not used, charges what was, and never beyond a full bucket", () => {
    const c = clock();
    const limiter = new RateLimiter(c.now);
    const a = limiter.admit("k", { tpm: 1000 }, 600) as Admitted;
    assert.equal(a.tokens?.remaining, 400);
    a.release(100);
    const b = limiter.admit("k", { tpm: 1000 }, 0) as Admitted;
    assert.equal(b.tokens?.remaining, 900);
    b.release(0);
    const big = limiter.admit("k", { tpm: 1000 }, 900) as Admitted;
    big.release(1500);
    assert.equal((limiter.admit("k", { tpm: 1000 }, 1) as Refusal).kind, "tokens", "the overrun is charged");
    c.advance(120_000);
    const full = limiter.admit("k", { tpm: 1000 }, 0) as Admitted;
    assert.equal(full.tokens?.remaining, 1000, "no more than full after a long rest");
    full.release(undefined);
  });

  test("concurrency: leases go back exactly once; an estimate over the limit is hopeless", () => {
    const limiter = new RateLimiter(clock().now);
    const a = limiter.admit("k", { concurrency: 1 }, 1) as Admitted;
    assert.equal((limiter.admit("k", { concurrency: 1 }, 1) as Refusal).kind, "concurrency");
    a.release(1);
    a.release(1);
    const b = limiter.admit("k", { concurrency: 1 }, 1);
    assert.ok(admitted(b));
    assert.equal((limiter.admit("other", { concurrency: 1 }, 1) as Admitted).requests, undefined, "keys are apart");
    assert.equal((limiter.admit("t", { tpm: 10 }, 11) as Refusal).hopeless, true);
  });
});
