/** POST /v1/embeddings */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { GatewayContext } from "./context.ts";
import { proxy } from "./proxy.ts";
import { parseBody } from "./request-body.ts";

const embeddingsRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.unknown()).min(1)]),
});

export function embeddingsRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.post("/v1/embeddings", async (request, reply) => {
    const body = parseBody(embeddingsRequest, request.body);
    return proxy(ctx, request, reply, {
      path: "/embeddings",
      model: body.model,
      stream: false,
      stripUsage: false,
      bodyFor: (target) => JSON.stringify({ ...body, model: target.model }),
    });
  });
}
