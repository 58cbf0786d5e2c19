/** Unauthenticated probes: /health (the process is alive), /ready (config loaded, upstreams known), /metrics. */
import type { FastifyInstance } from "fastify";
import type { GatewayContext } from "./context.ts";

export function healthRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get("/health", async () => ({ status: "ok" }));
  app.get("/ready", async (_request, reply) => {
    const body = {
      status: ctx.draining ? "draining" : "ready",
      demo: ctx.config.demo,
      providers: ctx.config.providers.map((p) => ({ name: p.name, type: p.type })),
      models: [...ctx.config.aliases.keys()],
      passthrough: ctx.config.passthrough?.name ?? null,
    };
    return reply.code(ctx.draining ? 503 : 200).send(body);
  });
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });
}
