/**
 * Sends one client request upstream: each target of the model in order (fallback), each with a
 * bounded number of attempts (the shared retry rule). Returns once a target has answered 2xx: with
 * the whole body for non-streaming requests (so a connection that breaks mid-body is still
 * retried), and for streams once the first event has arrived (so a stream that dies or errors
 * before it is retried too); after that nothing is retried.
 *
 * An error that ends the forward (retries and targets used up, or the deadline) carries
 * `x-should-retry: false`: the gateway has retried already, and a client SDK that retries on top
 * multiplies the upstream generations (3 gateway attempts x 4 client attempts = 12).
 */
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { decideRetry, isRetryableStatus, recordLookup, type Failure, type Scrubber } from "@mcpgw/openai-protocol";
import type { FastifyBaseLogger } from "fastify";
import type { RetrySettings, Target } from "../config/types.ts";
import { GatewayError, upstreamBadResponse } from "../errors.ts";
import type { Metrics } from "../observability/metrics.ts";
import { UpstreamEvents, type EventBatch } from "./stream-events.ts";
import { readCapped, readUpTo } from "./read-body.ts";
import type { ProviderClient, UpstreamBody, UpstreamHeaders, UpstreamMethod } from "./types.ts";
import { errorFromException, errorFromUpstream } from "./upstream-errors.ts";

const ERROR_BODY_LIMIT = 64 * 1024;

export interface Forwarder {
  forward(req: ForwardRequest): Promise<Forwarded>;
}

export interface ForwardRequest {
  targets: Target[];
  /** The public model name, for the fallback metric. */
  model: string;
  method: UpstreamMethod;
  path: string;
  /** The body for one target; with `streamUsage`, asking for usage on the stream. */
  bodyFor(target: Target, opts: { streamUsage: boolean }): UpstreamBody | undefined;
  stream: boolean;
  /**
   * Not streaming, and relayed as it comes (binary audio) rather than read whole: returned once the
   * upstream's 2xx headers arrive, so only what fails before them is retried.
   */
  raw?: boolean;
  /** The client did not ask for usage on its stream itself: the gateway asks for it, where the provider takes it. */
  addsStreamUsage: boolean;
  requestId: string;
  /** Aborted when the client goes away or the total timeout passes; its reason is what gets thrown. */
  signal: AbortSignal;
  /** performance.now() value after which no retry starts. */
  deadline: number;
}

export interface Forwarded {
  target: Target;
  /** The upstream's content type when it is a plain one, else the usual one. */
  contentType: string;
  /** Non-streaming: the whole response body, scrubbed. */
  body?: Buffer;
  /** `raw`: the body as it comes, and its length when the upstream said it. */
  raw?: { body: Readable; length: number | undefined };
  /** Streaming: the stream with its first events read, and whether the gateway asked for its usage (to strip it again). */
  stream?: { events: UpstreamEvents; first: EventBatch; usageAdded: boolean };
}

type Outcome =
  | { ok: Forwarded }
  | {
      error: GatewayError;
      /** The failure as the retry rule sees it (the upstream's own status and headers). */
      failure: Failure;
      /** Worth another attempt at all (credentials that failed once fail again). */
      retryable: boolean;
      /** Worth trying the next target (not the request's own fault). */
      fallback: boolean;
    };

export function createForwarder(deps: {
  providers: Map<string, ProviderClient>;
  retry: RetrySettings;
  scrub: Scrubber;
  metrics: Metrics;
  responseLimitBytes: number;
  log: FastifyBaseLogger;
}): Forwarder {
  const { providers, retry, scrub, metrics, log } = deps;

  async function attempt(req: ForwardRequest, target: Target, client: ProviderClient, streamUsage: boolean): Promise<Outcome> {
    const name = client.name;
    let outcome = "error";
    try {
      const res = await client.send({
        method: req.method,
        path: req.path,
        model: target.model,
        body: req.bodyFor(target, { streamUsage }),
        requestId: req.requestId,
        signal: req.signal,
      });
      outcome = String(res.statusCode);
      if (res.statusCode >= 300) {
        const error = errorFromUpstream(res.statusCode, await readCapped(res.body, ERROR_BODY_LIMIT), res.headers, name, scrub);
        const failure = { status: res.statusCode, header: recordLookup(res.headers) };
        return { error, failure, retryable: res.statusCode >= 400, fallback: !isClientFault(res.statusCode) };
      }
      const contentType = plainContentType(res.headers, req.stream ? "text/event-stream" : req.raw ? "application/octet-stream" : "application/json", scrub);
      if (req.raw) {
        const length = Number(res.headers["content-length"]);
        return { ok: { target, contentType, raw: { body: res.body, length: Number.isSafeInteger(length) && length >= 0 ? length : undefined } } };
      }
      if (!req.stream) {
        const { bytes, overflow } = await readUpTo(res.body, deps.responseLimitBytes);
        if (overflow) {
          outcome = "too_large";
          const error = new GatewayError(502, `Upstream provider '${name}' sent an answer larger than this gateway holds (server.responseLimitBytes, ${deps.responseLimitBytes} bytes).`, { code: "upstream_response_too_large" });
          return { error, failure: {}, retryable: false, fallback: true };
        }
        return { ok: { target, contentType, body: scrub.bytes(bytes) } };
      }
      const events = new UpstreamEvents(res.body, scrub, name);
      const first = await events.first();
      if (first.error) {
        events.discard();
        outcome = "stream_error";
        return { error: first.error, failure: { status: first.error.status }, retryable: true, fallback: !isClientFault(first.error.status) };
      }
      if (first.ended && first.batch.events.length === 0 && !events.hasPending()) {
        outcome = "empty_stream";
        return { error: upstreamBadResponse(name, "the stream ended before its first event"), failure: {}, retryable: true, fallback: true };
      }
      return { ok: { target, contentType, stream: { events, first: first.batch, usageAdded: streamUsage } } };
    } catch (err) {
      // The client left or the total timeout passed: not an outcome of the upstream's.
      if (req.signal.aborted) {
        outcome = "";
        throw req.signal.reason;
      }
      outcome = (err as { code?: string }).code ?? "error";
      return { error: errorFromException(err, name), failure: {}, retryable: true, fallback: true };
    } finally {
      if (outcome) metrics.attempts.inc({ provider: name, outcome });
    }
  }

  return {
    async forward(req) {
      let last: GatewayError | undefined;
      for (const [i, target] of req.targets.entries()) {
        const client = providers.get(target.provider)!;
        for (let n = 1; ; n++) {
          const streamUsage = req.stream && req.addsStreamUsage && client.streamUsage;
          const outcome = await attempt(req, target, client, streamUsage);
          if ("ok" in outcome) return outcome.ok;
          if (streamUsage && rejectsStreamOptions(outcome.error)) {
            // Asked again at once without it, and never sent it again: the stream still works, uncounted.
            client.streamUsage = false;
            log.warn({ provider: client.name }, "the upstream rejects stream_options: asking it again without, and from now on; its streams' tokens are not counted");
            n--;
            continue;
          }
          last = outcome.error;
          if (!outcome.fallback) throw last;
          if (!outcome.retryable) break;
          const decision = decideRetry(outcome.failure, n, retry);
          if (!decision.retry) break;
          if (performance.now() + decision.delayMs > req.deadline) throw final(last);
          metrics.retries.inc({ provider: client.name });
          try {
            await sleep(decision.delayMs, undefined, { signal: req.signal });
          } catch {
            throw req.signal.reason;
          }
        }
        if (i < req.targets.length - 1) metrics.fallbacks.inc({ model: req.model });
      }
      throw final(last!);
    },
  };
}

/** The request itself was at fault: no other target would take it either. */
function isClientFault(status: number): boolean {
  return status === 400 || status === 413 || status === 415 || status === 422;
}

/** What the client gets once the gateway gives up: told not to retry what the gateway already has. */
function final(error: GatewayError): GatewayError {
  return isRetryableStatus(error.status) ? error.withHeaders({ "x-should-retry": "false" }) : error;
}

function rejectsStreamOptions(error: GatewayError): boolean {
  return error.status === 400 && (error.param === "stream_options" || /stream_options/.test(error.message));
}

const PLAIN_CONTENT_TYPE = /^[\w.+-]{1,64}\/[\w.+-]{1,64}(\s*;\s*charset=[\w-]{1,32})?$/i;

/** The upstream's content type when it is an ordinary one (and holds no secret), else the usual one. */
function plainContentType(headers: UpstreamHeaders, fallback: string, scrub: Scrubber): string {
  const value = headers["content-type"];
  return typeof value === "string" && PLAIN_CONTENT_TYPE.test(value) && !scrub.leaks(value) ? value : fallback;
}
