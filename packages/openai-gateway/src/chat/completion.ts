/**
 * One model request, as every /v1 route that calls a model makes it: pick targets, forward (retry,
 * fallback, timeouts, client disconnect), relay (a whole JSON answer, or the SSE stream opened once
 * on the upstream's first event), count tokens. A model name becomes a metric label when it is a
 * configured alias, or else once an upstream has accepted it: clients choose passthrough names.
 */
import { pipeline } from "node:stream/promises";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Target } from "../config/types.ts";
import { withinLifetime } from "../request-lifetime.ts";
import type { ModelRouter } from "../models/router.ts";
import { countTokens, type Metrics } from "../observability/metrics.ts";
import { EventStream } from "../relay/event-stream.ts";
import { usageOf } from "../relay/response-usage.ts";
import { relayStream } from "../relay/stream-relay.ts";
import { UsageTap } from "../relay/usage-tap.ts";
import type { Forwarder, Forwarded } from "../upstream/forward.ts";
import type { UpstreamBody, UpstreamMethod } from "../upstream/types.ts";

export interface CompletionCall {
  /** The OpenAI API path below the base URL: /chat/completions, /embeddings. */
  path: string;
  /** POST unless said. */
  method?: UpstreamMethod;
  model: string;
  /** The targets to try instead of the model's (a stored response lives with the provider that made it). */
  targets?: Target[];
  stream: boolean;
  /** Relay the answer's bytes as they come (binary audio) instead of reading it whole. */
  raw?: boolean;
  /** The answer's usage is not this request's (a stored response read again): not counted. */
  uncounted?: boolean;
  /** The client asked for usage on its stream itself (so the usage chunk is its own, and stays). */
  clientWantsUsage: boolean;
  /** The body for one target: the client's, with the target's model (and stream_options when asked). */
  bodyFor(target: Target, opts: { streamUsage: boolean }): UpstreamBody | undefined;
  /** Told which target answered, with the answer (whole) or its first events (streamed); not for raw answers. */
  onServed?(target: Target, answer: Buffer | string): void;
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
      const route = targetsFor(request, router, call.model);
      const targets = call.targets ?? route;
      return withinLifetime(reply, deps.totalMs, async (life) => {
        const sent = await forwarder.forward({
          targets,
          model: call.model,
          method: call.method ?? "POST",
          path: call.path,
          bodyFor: call.bodyFor,
          stream: call.stream,
          raw: call.raw,
          addsStreamUsage: call.stream && !call.clientWantsUsage,
          requestId: String(request.id),
          signal: life.signal,
          deadline: life.deadline,
        });
        request.modelAccepted = true;
        if (sent.raw) return relayRaw(reply, sent.contentType, sent.raw, life.signal);
        if (sent.stream) {
          const tap = new UsageTap(sent.stream.usageAdded);
          if (!call.uncounted) request.meter?.streaming(tap, sent.target);
          const first = tap.apply(sent.stream.first);
          call.onServed?.(sent.target, first);
          const out = EventStream.open(reply, sent.contentType, first);
          await relayStream(sent.stream.events, out, tap, sent.target.provider, life.signal, request.log);
          if (!call.uncounted) {
            countTokens(metrics, client.name, call.model, tap.usage);
            request.meter?.streamed(tap, sent.target);
          }
          return reply;
        }
        call.onServed?.(sent.target, sent.body!);
        if (!call.uncounted) {
          const usage = usageOf(sent.body!);
          countTokens(metrics, client.name, call.model, usage);
          request.meter?.add(usage, sent.target);
        }
        return reply.code(200).header("content-type", sent.contentType).send(sent.body);
      });
    },
  };
}

/**
 * A binary answer (speech audio) piped to the client as it arrives, with the upstream's length when
 * it gave one. Past the first byte nothing can be retried: an upstream that fails midway cuts the
 * client's connection, which is how a client learns that a body is incomplete.
 */
async function relayRaw(reply: FastifyReply, contentType: string, raw: NonNullable<Forwarded["raw"]>, signal: AbortSignal): Promise<FastifyReply> {
  reply.code(200).header("content-type", contentType);
  if (raw.length !== undefined) reply.header("content-length", raw.length);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, reply.getHeaders() as Record<string, string | number>);
  try {
    await pipeline(raw.body, res, { signal });
  } catch {
    // The client left (the signal tears the upstream down) or the upstream broke: the connection goes.
    raw.body.destroy();
    res.destroy();
  }
  return reply;
}
