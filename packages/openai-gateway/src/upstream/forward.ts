/**
 * Sends one client request upstream: each target of the model in order (fallback), each with a
 * bounded number of attempts (retry). Returns once a target answers 2xx — with the whole body for
 * non-streaming requests, so a connection that breaks mid-body is still retried, and with the body
 * unread for streams, after which nothing is retried.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { RetrySettings, Target } from "../config/types.ts";
import type { GatewayError } from "../errors.ts";
import type { Metrics } from "../metrics.ts";
import { readAll, readCapped } from "./read-body.ts";
import { isClientFault, isRetryableStatus, retryDelayMs } from "./retry-policy.ts";
import type { ProviderClient, UpstreamHeaders, UpstreamResponse } from "./types.ts";
import { errorFromException, errorFromUpstream, type Scrub } from "./upstream-errors.ts";

const ERROR_BODY_LIMIT = 64 * 1024;

export interface Forwarder {
  forward(req: ForwardRequest): Promise<Forwarded>;
}

export interface ForwardRequest {
  targets: Target[];
  /** The public model name, for metrics. */
  model: string;
  method: "GET" | "POST";
  path: string;
  bodyFor(target: Target): string | undefined;
  stream: boolean;
  requestId: string;
  /** Aborted when the client goes away or the total timeout passes; its reason is what gets thrown. */
  signal: AbortSignal;
  /** performance.now() value after which no retry starts. */
  deadline: number;
}

export interface Forwarded {
  target: Target;
  response: UpstreamResponse;
  /** The whole response body, for non-streaming requests. */
  body: Buffer | undefined;
}

type Outcome =
  | { ok: Forwarded }
  | { error: GatewayError; retry: boolean; fallback: boolean; headers?: UpstreamHeaders };

export function createForwarder(deps: {
  providers: Map<string, ProviderClient>;
  retry: RetrySettings;
  scrub: Scrub;
  metrics: Metrics;
}): Forwarder {
  const { providers, retry, scrub, metrics } = deps;

  async function attempt(req: ForwardRequest, target: Target, body: string | undefined): Promise<Outcome> {
    const name = target.provider.name;
    try {
      const res = await providers.get(name)!.send({
        method: req.method,
        path: req.path,
        model: target.model,
        body,
        requestId: req.requestId,
        signal: req.signal,
      });
      metrics.attempts.inc({ provider: name, outcome: String(res.statusCode) });
      if (res.statusCode < 400) {
        return { ok: { target, response: res, body: req.stream ? undefined : await readAll(res.body) } };
      }
      const error = errorFromUpstream(res.statusCode, await readCapped(res.body, ERROR_BODY_LIMIT), res.headers, name, scrub);
      const retryable = isRetryableStatus(res.statusCode);
      return { error, retry: retryable, fallback: !isClientFault(res.statusCode), headers: res.headers };
    } catch (err) {
      if (req.signal.aborted) throw req.signal.reason;
      metrics.attempts.inc({ provider: name, outcome: (err as { code?: string }).code ?? "error" });
      return { error: errorFromException(err, name), retry: true, fallback: true };
    }
  }

  return {
    async forward(req) {
      let last: GatewayError | undefined;
      for (const [i, target] of req.targets.entries()) {
        const body = req.bodyFor(target);
        for (let n = 1; ; n++) {
          const outcome = await attempt(req, target, body);
          if ("ok" in outcome) return outcome.ok;
          last = outcome.error;
          if (!outcome.fallback) throw last;
          if (!outcome.retry || n >= retry.maxAttempts) break;
          const delay = retryDelayMs(n, outcome.headers, retry);
          if (performance.now() + delay > req.deadline) throw last;
          metrics.retries.inc({ provider: target.provider.name });
          try {
            await sleep(delay, undefined, { signal: req.signal });
          } catch {
            throw req.signal.reason;
          }
        }
        if (i < req.targets.length - 1) metrics.fallbacks.inc({ model: req.model });
      }
      throw last!;
    },
  };
}
