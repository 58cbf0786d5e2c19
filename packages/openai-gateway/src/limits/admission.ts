/**
 * The limits on the request path of /v1/chat/completions and /v1/embeddings: after auth and the
 * body check, before any upstream is asked. A request is admitted against its key's limits (its
 * own, else `limits.defaults`) with its estimated tokens, and the answer carries OpenAI's
 * x-ratelimit-* headers (streams included: they are set before the stream opens); when the response
 * closes, however it closes (done, error, timeout, client gone), its lease goes back and its tokens
 * settle to the real usage, or stay at the estimate when the answer never said.
 *
 * A refusal is OpenAI's 429: `rate_limit_exceeded`, the message naming the limit, what was used and
 * what was asked, with retry-after and retry-after-ms, which the SDKs' retries honour. A request
 * that could never fit (its estimate alone is over the key's tokens per minute) says so, with
 * x-should-retry: false.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { KeyLimits, LimitSettings } from "../config/types.ts";
import { GatewayError } from "../errors.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LimitState, RateLimiter, Refusal } from "./rate-limiter.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The tokens the answer used, once known (counted where the usage is read). */
    usedTokens: number | undefined;
  }
}

export interface Admission {
  /** Throws the 429 when a limit refuses; otherwise sets the headers and settles on close. */
  admit(request: FastifyRequest, reply: FastifyReply, estimate: number): void;
  /** The same for a chat completion's body (its estimate made here). */
  chat(request: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>): void;
  embeddings(request: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>): void;
}

const NAMES = { requests: "requests per minute (rpm)", tokens: "tokens per minute (tpm)", concurrency: "requests in flight (concurrency)" } as const;

export function createAdmission(limiter: RateLimiter, settings: LimitSettings, metrics: Pick<Metrics, "rateLimited">): Admission {
  const sweeper = setInterval(() => limiter.sweep(), 60_000);
  sweeper.unref();
  const admission: Admission = {
    chat: (request, reply, body) => admission.admit(request, reply, chatEstimate(body, settings.completionEstimate)),
    embeddings: (request, reply, body) => admission.admit(request, reply, embeddingsEstimate(body)),
    admit(request, reply, estimate) {
      const client = request.client!;
      const limits: KeyLimits | undefined = client.limits ?? settings.defaults;
      if (!limits || (limits.rpm === undefined && limits.tpm === undefined && limits.concurrency === undefined)) return;
      const result = limiter.admit(client.name, limits, estimate);
      if ("kind" in result) {
        metrics.rateLimited.inc({ key: client.name, limit: result.kind });
        throw refusal(result, client.name);
      }
      headers(reply, "requests", result.requests);
      headers(reply, "tokens", result.tokens);
      reply.raw.once("close", () => result.release(request.usedTokens));
    },
  };
  return admission;
}

/** The estimate a chat completion reserves: its messages' size (about four characters a token) and what it lets the answer use. */
export function chatEstimate(body: Record<string, unknown>, completionEstimate: number): number {
  const prompt = Math.ceil(JSON.stringify(body.messages ?? "").length / 4);
  const cap = [body.max_completion_tokens, body.max_tokens].find((v) => typeof v === "number" && v > 0) as number | undefined;
  return prompt + (cap ?? completionEstimate);
}

/** Embeddings answer with no completion: the input's size alone. */
export function embeddingsEstimate(body: Record<string, unknown>): number {
  return Math.max(1, Math.ceil(JSON.stringify(body.input ?? "").length / 4));
}

function headers(reply: FastifyReply, kind: "requests" | "tokens", state: LimitState | undefined): void {
  if (!state) return;
  reply.header(`x-ratelimit-limit-${kind}`, String(state.limit));
  reply.header(`x-ratelimit-remaining-${kind}`, String(state.remaining));
  reply.header(`x-ratelimit-reset-${kind}`, duration(state.resetMs));
}

function refusal(r: Refusal, key: string): GatewayError {
  const wait = `${Math.ceil(r.retryAfterMs / 100) / 10}s`;
  const asked = r.kind === "concurrency" ? "" : `, requested ${r.requested}`;
  const message = r.hopeless
    ? `This request's estimated ${r.kind === "tokens" ? r.requested : 1} tokens are more than the ${NAMES[r.kind]} limit of key '${key}' (${r.limit}) allows at all: lower max_tokens or send less.`
    : `Rate limit reached for ${NAMES[r.kind]} on key '${key}': limit ${r.limit}, used ${r.used}${asked}. Please try again in ${wait}.`;
  const retry: Record<string, string> = r.hopeless ? { "x-should-retry": "false" } : { "retry-after": String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))), "retry-after-ms": String(r.retryAfterMs) };
  return new GatewayError(429, message, { type: r.kind === "tokens" ? "tokens" : "requests", code: "rate_limit_exceeded", headers: retry });
}

/** OpenAI writes resets as `1s`, `6m0s`, `20ms`. */
function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}
