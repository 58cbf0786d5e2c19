/** GET /v1/models and GET /v1/models/{id}: only what the calling key may use. */
import type { FastifyInstance } from "fastify";
import type { GatewayContext } from "./context.ts";

export function modelsRoutes(app: FastifyInstance, ctx: GatewayContext): void {
  app.get("/v1/models", async (request) => ({
    object: "list",
    data: await ctx.catalog.list(request.client!, String(request.id)),
  }));
  // Model ids may contain slashes (OpenRouter's "meta-llama/llama-3.1-8b"), hence the wildcard.
  // The router has already percent-decoded the param; decoding again breaks ids holding a '%'.
  app.get("/v1/models/*", async (request) => {
    const id = (request.params as { "*": string })["*"];
    const model = await ctx.catalog.get(id, request.client!, String(request.id));
    request.publicModel = id; // only once it exists: unknown names must not mint metric series
    return model;
  });
}
