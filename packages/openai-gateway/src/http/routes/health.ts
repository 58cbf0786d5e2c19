/** Unauthenticated probes: /health (the process is alive), /ready (config loaded, upstreams known; 503 while draining), /metrics. */
import type { FastifyInstance } from "fastify";
import type { Registry } from "prom-client";

export interface Readiness {
  /** 200 when true: not draining, and every required MCP server ready. */
  ready(): boolean;
  status(): string;
  /** What /ready shows besides its status: names and states only, never a credential. */
  describe(): Record<string, unknown>;
}

export function healthRoutes(app: FastifyInstance, deps: { readiness: Readiness; registry: Registry }): void {
  const { readiness, registry } = deps;
  app.get("/health", async () => ({ status: "ok" }));
  app.get("/ready", async (_request, reply) => reply.code(readiness.ready() ? 200 : 503).send({ status: readiness.status(), ...readiness.describe() }));
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });
}
