/** GET /v1/models and GET /v1/models/{id}: only what the calling key may use. */
import type { FastifyInstance } from "fastify";
import type { ModelCatalog } from "../../../models/catalog.ts";

export function modelsRoutes(app: FastifyInstance, deps: { catalog: ModelCatalog }): void {
  const { catalog } = deps;
  app.get("/v1/models", async (request) => ({
    object: "list",
    data: await catalog.list(request.client!, String(request.id)),
  }));
  // Model ids may contain slashes (OpenRouter's "meta-llama/llama-3.1-8b"), hence the wildcard.
  // The router has already percent-decoded the param; decoding again breaks ids holding a '%'.
  app.get("/v1/models/*", async (request) => {
    const id = (request.params as { "*": string })["*"];
    request.requestedModel = id;
    const model = await catalog.get(id, request.client!, String(request.id));
    request.modelAccepted = true; // only once it exists: unknown names must not mint metric series
    return model;
  });
}
