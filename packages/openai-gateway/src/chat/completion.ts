/**
 * One model request, as every /v1 route that calls a model makes it: pick targets, forward (retry,
 * fallback, timeouts, client disconnect), relay (a whole JSON answer, or the SSE stream opened once
 * on the upstream's first event), count tokens. A model name becomes a metric label when it is a
 * configured alias, or else once an upstream has accepted it: clients choose passthrough names.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Target } from "../config/types.ts";
import { withinLifetime } from "../request-lifetime.ts";
import type { ModelRouter } from "../models/router.ts";
import { countTokens, type Metrics } from "../observability/metrics.ts";
import { EventStream } from "../relay/event-stream.ts";
import { usageOf } from "../relay/response-usage.ts";
import { relayStream } from "../relay/stream-relay.ts";
import { UsageTap } from "../relay/usage-tap.ts";
import type { Forwarder } from "../upstream/forward.ts";

export interface CompletionCall {
  /** The OpenAI API path below the base URL: /chat/completions, /embeddings. */
  path: string;
  model: string;
  stream: boolean;
  /** The client asked for usage on its stream itself (so the usage chunk is its own, and stays). */
  clientWantsUsage: boolean;
  /** The body for one target: the client's, with the target's model (and stream_options when asked). */
  bodyFor(target: Target, opts: { streamUsage: boolean }): string;
}

export interface Completions {
  run(request: FastifyRequest, reply: FastifyReply, call: CompletionCall): Promise<FastifyReply>;
}

/**
 * The targets of the model a request asks for (404 when the key may not use it), noting the name for
 * the access log; a configured alias may label metrics at once, a passthrough name once accepted.
 */
export function targetsFor(request: FastifyRequest, router: ModelRouter, model: string): Target[] {
  request.requestedModel = model;
  const { targets, alias } = router.resolve(model, request.client!);
  request.modelAccepted = alias;
  return targets;
}

export function createCompletions(deps: { router: ModelRouter; forwarder: Forwarder; metrics: Metrics; totalMs: number }): Completions {
  const { router, forwarder, metrics } = deps;
  return {
    async run(request, reply, call) {
      const client = request.client!;
      const targets = targetsFor(request, router, call.model);
      return withinLifetime(reply, deps.totalMs, async (life) => {
        const sent = await forwarder.forward({
          targets,
          model: call.model,
          method: "POST",
          path: call.path,
          bodyFor: call.bodyFor,
          stream: call.stream,
          addsStreamUsage: call.stream && !call.clientWantsUsage,
          requestId: String(request.id),
          signal: life.signal,
          deadline: life.deadline,
        });
        request.modelAccepted = true;
        if (sent.stream) {
          const tap = new UsageTap(sent.stream.usageAdded);
          request.meter?.streaming(tap, sent.target);
          const out = EventStream.open(reply, sent.contentType, tap.apply(sent.stream.first));
          await relayStream(sent.stream.events, out, tap, sent.target.provider, life.signal, request.log);
          countTokens(metrics, client.name, call.model, tap.usage);
          request.meter?.streamed(tap, sent.target);
          return reply;
        }
        const usage = usageOf(sent.body!);
        countTokens(metrics, client.name, call.model, usage);
        request.meter?.add(usage, sent.target);
        return reply.code(200).header("content-type", sent.contentType).send(sent.body);
      });
    },
  };
}
