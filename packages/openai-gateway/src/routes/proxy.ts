/**
 * The shared tail of every model request: pick targets, forward (retry, timeout, abort), relay
 * (whole JSON body or SSE stream), count tokens.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Target } from "../config/types.ts";
import { countTokens } from "../metrics.ts";
import { usageOf } from "../relay/response-usage.ts";
import { SseUsageTap } from "../relay/sse-usage-tap.ts";
import { relayStream } from "../relay/stream-relay.ts";
import type { GatewayContext } from "./context.ts";
import { CLIENT_GONE, requestLifetime } from "./request-lifetime.ts";

export interface ProxyCall {
  path: string;
  model: string;
  stream: boolean;
  /** True when the gateway added stream_options.include_usage itself and must hide that chunk. */
  stripUsage: boolean;
  bodyFor(target: Target): string;
}

export async function proxy(ctx: GatewayContext, request: FastifyRequest, reply: FastifyReply, call: ProxyCall) {
  const client = request.client!;
  const targets = ctx.router.resolve(call.model, client);
  // Labelled only once resolved: a client's arbitrary model names must not mint metric series.
  request.publicModel = call.model;
  const life = requestLifetime(reply, ctx.config.timeouts.totalMs);
  try {
    const sent = await ctx.forwarder.forward({
      targets,
      model: call.model,
      method: "POST",
      path: call.path,
      bodyFor: call.bodyFor,
      stream: call.stream,
      requestId: String(request.id),
      signal: life.signal,
      deadline: life.deadline,
    });
    if (call.stream) {
      const tap = new SseUsageTap(call.stripUsage);
      await relayStream(reply, sent.response, tap, sent.target.provider.name, life.signal);
      countTokens(ctx.metrics, client.name, call.model, tap.usage);
      return reply;
    }
    countTokens(ctx.metrics, client.name, call.model, usageOf(sent.body!));
    return reply
      .code(sent.response.statusCode)
      .header("content-type", sent.response.headers["content-type"] ?? "application/json")
      .send(sent.body);
  } catch (err) {
    if (err === CLIENT_GONE) {
      reply.hijack(); // nobody is listening; nothing to send
      return reply;
    }
    throw err;
  } finally {
    life.end();
  }
}
