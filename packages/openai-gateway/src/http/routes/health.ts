/** Unauthenticated probes: /health (the process is alive), /ready (config loaded, upstreams known; 503 while draining), /metrics. */
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

export interface Readiness {
  draining(): boolean;
  /** What /ready shows besides its status: names only, never a credential. */
  describe(): Record<string, unknown>;
}

export function healthRoutes(app: FastifyInstance, deps: { readiness: Readiness; registry: Registry }): void {
  const { readiness, registry } = deps;
  app.get("/health", async () => ({ status: "ok" }));
  app.get("/ready", async (_request, reply) => {
    const draining = readiness.draining();
    return reply.code(draining ? 503 : 200).send({ status: draining ? "draining" : "ready", ...readiness.describe() });
  });
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
}
