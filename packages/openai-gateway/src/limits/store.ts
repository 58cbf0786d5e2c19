/**
 * The limit store the config asks for. Redis's client is loaded only when a redis:// store is
 * configured: a gateway with memory limits never loads it.
 */
import type { FastifyBaseLogger } from "fastify";
import type { LimitSettings } from "../config/types.ts";
import type { Metrics } from "../observability/metrics.ts";
import { MemoryLimitStore } from "./memory-store.ts";
import type { LimitStore } from "./types.ts";

export async function createLimitStore(settings: LimitSettings, log: FastifyBaseLogger, metrics: Metrics): Promise<LimitStore> {
  metrics.limitStoreUp.set(1);
  if (settings.store === "memory") return new MemoryLimitStore();
  const { RedisLimitStore } = await import("./redis-store.ts");
  return new RedisLimitStore({
    url: settings.store,
    leaseTtlMs: settings.leaseTtlMs,
    expectedReplicas: settings.expectedReplicas,
    log,
    onFallback: () => {
      metrics.limitStoreUp.set(0);
      metrics.limitStoreFallbacks.inc();
    },
    onStoreError: () => metrics.limitStoreErrors.inc(),
    onRecovered: () => metrics.limitStoreUp.set(1),
  });
}
