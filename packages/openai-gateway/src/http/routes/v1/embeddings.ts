/** POST /v1/embeddings */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Completions } from "../../../chat/completion.ts";
import type { Admission } from "../../../limits/admission.ts";
import { passthroughBody } from "../../../upstream/passthrough-body.ts";
import { parseBody } from "../validate-body.ts";

const embeddingsRequest = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.unknown()).min(1)]),
});

export function embeddingsRoute(app: FastifyInstance, deps: { completions: Completions; admission: Admission }): void {
  app.post("/v1/embeddings", async (request, reply) => {
    const body = parseBody(embeddingsRequest, request.body);
    await deps.admission.embeddings(request, reply, body);
    return deps.completions.run(request, reply, {
      path: "/embeddings",
      model: body.model,
      stream: false,
      clientWantsUsage: false,
      bodyFor: (target) => passthroughBody(request.raw, body, target.model, { addStreamUsage: false }) ?? JSON.stringify({ ...body, model: target.model }),
    });
  });
}
