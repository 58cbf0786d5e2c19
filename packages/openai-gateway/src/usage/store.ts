/**
 * The usage recorder the config asks for: SQLite in the data directory by default, Postgres when
 * replicas share one (its client loaded only then), or none (`usage.store: off`).
 */
import type { FastifyBaseLogger } from "fastify";
import type { UsageSettings } from "../config/types.ts";
import type { Metrics } from "../observability/metrics.ts";
import { UsageRecorder } from "./recorder.ts";
import { SqliteUsageStore } from "./sqlite-store.ts";
import type { UsageStore } from "./types.ts";

export async function createUsageRecorder(settings: UsageSettings, log: FastifyBaseLogger, metrics: Metrics): Promise<UsageRecorder | undefined> {
  if (settings.store === "off") return undefined;
  let store: UsageStore;
  if (/^postgres(ql)?:\/\//.test(settings.store)) {
    const { PostgresUsageStore } = await import("./postgres-store.ts");
    store = await PostgresUsageStore.connect(settings.store);
  } else store = new SqliteUsageStore(settings.store);
  return new UsageRecorder(store, log, {
    retentionMs: settings.retentionMs,
    onDropped: (rows) => metrics.usageRowsDropped.inc(rows),
    onStoreError: () => metrics.usageStoreErrors.inc(),
  });
}
