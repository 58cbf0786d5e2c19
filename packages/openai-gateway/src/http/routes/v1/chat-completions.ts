/** POST /v1/chat/completions: unknown fields pass through untouched; only `model` (and, for counting, `stream_options`) change. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Completions } from "../../../chat/completion.ts";
import type { ToolLoop, ToolLoopCall } from "../../../chat/tool-loop.ts";
import type { ToolModelSettings } from "../../../config/types.ts";
import type { Admission } from "../../../limits/admission.ts";
import { passthroughBody } from "../../../upstream/passthrough-body.ts";
import { parseBody } from "../validate-body.ts";

const chatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string() })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});

export function chatCompletionsRoute(
  app: FastifyInstance,
  deps: { completions: Completions; toolLoop: ToolLoop; toolModels: Map<string, ToolModelSettings>; admission: Admission },
): void {
  app.post("/v1/chat/completions", async (request, reply) => {
    const body = parseBody(chatRequest, request.body);
    await deps.admission.chat(request, reply, body);
    const stream = body.stream === true;
    const clientWantsUsage = body.stream_options?.include_usage === true;
    const settings = deps.toolModels.get(body.model);
    if (settings) {
      return deps.toolLoop.run(request, reply, { model: body.model, settings, body: body as ToolLoopCall["body"], stream, clientWantsUsage });
    }
    return deps.completions.run(request, reply, {
      path: "/chat/completions",
      model: body.model,
      stream,
      clientWantsUsage,
      // Usage is asked for on streams (where the provider takes it) so tokens are counted per key; stripped again unless the client asked.
      bodyFor: (target, { streamUsage }) =>
        passthroughBody(request.raw, body, target.model, { addStreamUsage: streamUsage }) ??
        JSON.stringify(streamUsage ? { ...body, model: target.model, stream_options: { ...body.stream_options, include_usage: true } } : { ...body, model: target.model }),
    });
  });
}
