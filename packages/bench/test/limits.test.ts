/**
 * The limits scenario's pure parts: the four gateway configurations (checked by the gateway's own
 * config loader, so the bench cannot drift from its schema) and how rounds become the report's figures.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadConfig, sha256 } from "@mcpgw/openai-gateway";
import { BENCH_KEY_ENV, BENCH_LIMITS_KEY, limitsConfig, loadFigures, NEVER_REFUSED, sequentialFigures } from "../src/scenarios/limits-config.ts";
import { LIMITS_VARIANTS, type LimitsVariant } from "../src/types.ts";

const dir = mkdtempSync(join(tmpdir(), "bench-limits-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const opts = { upstreamOrigin: "http://127.0.0.1:9", redisUrl: "redis://127.0.0.1:6390" };

function loaded(variant: LimitsVariant) {
  const file = join(dir, `${variant}.json`);
  writeFileSync(file, JSON.stringify(limitsConfig(variant, opts)));
  return loadConfig({ file, dataDir: join(dir, "data"), env: { [BENCH_KEY_ENV]: BENCH_LIMITS_KEY, OPENAI_API_KEY: "up-key" } });
}

describe("limitsConfig", () => {
  it("gives four configurations the gateway accepts, differing in the limit store and the usage store only", () => {
    const c = Object.fromEntries(LIMITS_VARIANTS.map((v) => [v.id, loaded(v.id)])) as Record<LimitsVariant, ReturnType<typeof loaded>>;
    for (const v of LIMITS_VARIANTS) {
      const { clients } = c[v.id];
      assert.equal(clients.length, 1, `${v.id}: one client, no GATEWAY_API_KEYS beside it`);
      assert.deepEqual(clients[0]!.hash, sha256(BENCH_LIMITS_KEY), `${v.id}: the key from ${BENCH_KEY_ENV}`);
    }
    assert.equal(c.memory.limits.store, "memory");
    assert.equal(c.redis.limits.store, opts.redisUrl);
    for (const v of ["memory", "redis"] as const) assert.deepEqual(c[v].clients[0]!.limits, NEVER_REFUSED);
    for (const v of ["off", "usage-off"] as const) assert.equal(c[v].clients[0]!.limits, undefined, `${v}: nothing to check`);
    assert.equal(c["usage-off"].usage.store, "off");
    for (const v of ["off", "memory", "redis"] as const) assert.match(c[v].usage.store, /usage\.db$/, `${v}: the default, SQLite`);
  });

  it("cannot refuse at any rate a benchmark reaches", () => {
    assert.ok(NEVER_REFUSED.rpm >= 1e8 && NEVER_REFUSED.tpm >= 1e9 && NEVER_REFUSED.concurrency >= 1e4);
  });

  it("needs a URL for Redis", () => {
    assert.throws(() => limitsConfig("redis", { upstreamOrigin: opts.upstreamOrigin }), /redis:\/\//);
  });
});

describe("figures", () => {
  it("sequential: the median of round p50s and p99s, added over direct's; a configuration that did not run is left out", () => {
    const rounds = new Map([
      ["direct", { p50: [0.1, 0.3, 0.2], p99: [0.5, 0.5, 0.6] }],
      ["off", { p50: [0.5, 0.7, 0.6], p99: [2, 1, 3] }],
    ]);
    const by = sequentialFigures(rounds, ["off", "memory"]);
    assert.deepEqual(Object.keys(by), ["off"]);
    assert.equal(by.off!.p50Ms, 0.6);
    assert.equal(by.off!.p99Ms, 2);
    assert.ok(Math.abs(by.off!.addedP50Ms - 0.4) < 1e-9);
    assert.ok(Math.abs(by.off!.addedP99Ms - 1.5) < 1e-9);
  });

  it("load: the median over turns, errors and non-2xx summed, and the median of per-round ratios to limits off", () => {
    const step = (rps: number, errors = 0) => ({ rps, p50Ms: rps / 1000, p99Ms: rps / 100, errors, non2xx: errors * 2 });
    // The machine slows down round after round; memory is 0.9x limits off in each round.
    const by = loadFigures(
      new Map([
        ["off", [step(10000), step(5000), step(2000)]],
        ["memory", [step(9000), step(4500, 1), step(1800, 2)]],
      ]),
    );
    assert.deepEqual(by.memory, { rps: 4500, p50Ms: 4.5, p99Ms: 45, errors: 3, non2xx: 6, rpsVsOff: 0.9 });
    assert.equal(by.off!.rpsVsOff, 1);
  });
});
