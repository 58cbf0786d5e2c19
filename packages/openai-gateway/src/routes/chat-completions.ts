/** POST /v1/chat/completions: unknown fields pass through untouched; only `model` is rewritten. */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { GatewayContext } from "./context.ts";
import { proxy } from "./proxy.ts";
import { parseBody } from "./request-body.ts";

const chatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string() })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});

export function chatCompletionsRoute(app: FastifyInstance, ctx: GatewayContext): void {
  app.post("/v1/chat/completions", async (request, reply) => {
    const body = parseBody(chatRequest, request.body);
    const stream = body.stream === true;
    // Ask for usage on every stream so tokens are counted per key; hide it if the client did not ask.
    const stripUsage = stream && body.stream_options?.include_usage !== true;
    const streamOptions = stripUsage ? { ...body.stream_options, include_usage: true } : body.stream_options;
    return proxy(ctx, request, reply, {
      path: "/chat/completions",
      model: body.model,
      stream,
      stripUsage,
      bodyFor: (target) =>
        JSON.stringify(stream ? { ...body, model: target.model, stream_options: streamOptions } : { ...body, model: target.model }),
    });
  });
}
