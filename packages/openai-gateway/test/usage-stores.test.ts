/**
 * The two usage stores answer alike: SQLite (node:sqlite, the default) and Postgres (a real server,
 * Debian's, started by the test). The same rows in, the same groups out by key, model and day, a
 * key's own rows only when it asks, a time range, and pruning past the retention. The recorder
 * keeps rows of a failing store and writes them once it is back.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startPostgres, type PostgresProcess } from "@mcpgw/test-support";
import pino from "pino";
import { PostgresUsageStore } from "../src/usage/postgres-store.ts";
import { UsageRecorder } from "../src/usage/recorder.ts";
import { SqliteUsageStore } from "../src/usage/sqlite-store.ts";
import type { UsageRow, UsageStore } from "../src/usage/types.ts";

let postgres: PostgresProcess;
before(async () => {
  postgres = await startPostgres();
}, { timeout: 10 * 60_000 });
after(async () => postgres?.stop());

const DAY = 86_400_000;
const t0 = Date.parse("2026-11-30T12:00:00Z");
const row = (over: Partial<UsageRow>): UsageRow => ({
  ts: t0, day: "2026-11-30", requestId: "r", key: "a", route: "/v1/chat/completions", model: "m1", servedModel: "m1", provider: "p",
  promptTokens: 10, cachedTokens: 2, completionTokens: 5, costMicros: 7, status: 200, partial: false, ...over,
});
const ROWS: UsageRow[] = [
  row({ requestId: "1" }),
  row({ requestId: "2", key: "b", model: "m2", partial: true, status: 499 }),
  row({ requestId: "3", ts: t0 + DAY, day: "2026-12-01", costMicros: 1_000_001 }),
  row({ requestId: "4", ts: t0 - 100 * DAY, day: "2026-08-22" }),
  row({ requestId: "5", key: "it's, \"odd\"", model: "=cmd" }),
];

for (const [name, open] of [["sqlite", async () => new SqliteUsageStore(":memory:")], ["postgres", () => PostgresUsageStore.connect(postgres.url)]] as const) {
  describe(`${name} usage store`, () => {
    let store: UsageStore;
    before(async () => {
      store = await open();
      await store.insert(ROWS);
    });
    after(async () => store?.close());

    test("groups by key, model and day; sums are exact", async () => {
      const byKeyModel = await store.query({ from: t0 - DAY, to: t0 + 2 * DAY, key: undefined, groupBy: ["key", "model"] });
      assert.deepEqual(byKeyModel, [
        { key: "a", model: "m1", requests: 2, promptTokens: 20, cachedTokens: 4, completionTokens: 10, costMicros: 1_000_008, partial: 0, errors: 0 },
        { key: "b", model: "m2", requests: 1, promptTokens: 10, cachedTokens: 2, completionTokens: 5, costMicros: 7, partial: 1, errors: 1 },
        { key: "it's, \"odd\"", model: "=cmd", requests: 1, promptTokens: 10, cachedTokens: 2, completionTokens: 5, costMicros: 7, partial: 0, errors: 0 },
      ]);
      const byDay = await store.query({ from: 0, to: t0 + 2 * DAY, key: "a", groupBy: ["day"] });
      assert.deepEqual(byDay.map((g) => [g.day, g.requests]), [["2026-08-22", 1], ["2026-11-30", 1], ["2026-12-01", 1]]);
      const none = await store.query({ from: t0 + 5 * DAY, to: t0 + 6 * DAY, key: undefined, groupBy: [] });
      assert.deepEqual(none, [], "an empty range has no groups, not a group of zeros");
    });

    test("prunes rows older than the retention", async () => {
      assert.equal(await store.prune(t0 - 30 * DAY), 1);
      const all = await store.query({ from: 0, to: t0 + 2 * DAY, key: undefined, groupBy: [] });
      assert.equal(all[0]!.requests, 4);
    });
  });
}

describe("UsageRecorder", () => {
  test("a store that fails keeps its rows queued and writes them once it works again", async () => {
    const inner = new SqliteUsageStore(":memory:");
    let failing = true;
    let errors = 0;
    const store: UsageStore = { kind: "sqlite", insert: (rows) => (failing ? Promise.reject(new Error("database restarting")) : inner.insert(rows)), query: (q) => inner.query(q), prune: (b) => inner.prune(b), close: () => inner.close() };
    const recorder = new UsageRecorder(store, pino({ level: "silent" }), { retentionMs: undefined, flushMs: 60_000, onStoreError: () => errors++ });
    for (let i = 0; i < 3; i++) recorder.record(row({ requestId: String(i) }));
    await recorder.flush();
    assert.equal(errors, 1);
    recorder.record(row({ requestId: "later" }));
    failing = false;
    await recorder.flush();
    const [all] = await inner.query({ from: 0, to: t0 + DAY, key: undefined, groupBy: [] });
    assert.equal(all!.requests, 4, "nothing lost");
    await recorder.close();
  });
});
