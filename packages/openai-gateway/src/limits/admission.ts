/**
 * The limits on the request path of /v1/chat/completions, /v1/embeddings and /chat: after auth and
 * the body check, before any upstream is asked. A request counts against its key's limits (its own,
 * else `limits.defaults`), its model's (`models.NAME.limits`, shared by every key) and its key's
 * budget, all admitted in one step by the store, with its estimated tokens and cost reserved. The
 * answer carries OpenAI's x-ratelimit-* headers (streams too: they are set before the stream opens).
 * When the response closes, however it closes (done, error, timeout, client gone), the meter says
 * what was used: the reservation settles to it and the usage row is recorded.
 *
 * Refusals are OpenAI's 429s, which the SDKs handle: a limit is `rate_limit_exceeded` with
 * retry-after and retry-after-ms, naming the limit, what was used and what was asked; a request that
 * could never fit, or a spent budget (`insufficient_quota`), says x-should-retry: false.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ClientKey, KeyLimits, LimitSettings, Target } from "../config/types.ts";
import { GatewayError } from "../errors.ts";
import type { Metrics } from "../observability/metrics.ts";
import { RequestMeter } from "../usage/meter.ts";
import type { UsageRecorder } from "../usage/recorder.ts";
import { periodOf } from "./budget-period.ts";
import { PriceTable } from "./prices.ts";
import { isRefusal, type BudgetScope, type Grant, type LimitState, type LimitStore, type RateScope, type Refusal } from "./types.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** What the request used, as the request path learns it (set when it is admitted). */
    meter: RequestMeter | undefined;
  }
}

export interface Estimate {
  prompt: number;
  /** The answer's cap; undefined: limits.completionEstimate. */
  completion: number | undefined;
}

export interface Admission {
  /** Throws the 429 when a limit refuses; otherwise sets the headers, and settles and records on close. */
  admit(request: FastifyRequest, reply: FastifyReply, model: string, estimate: Estimate): Promise<void>;
  /** The same for a chat completion's body (its estimate made here). */
  chat(request: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>): Promise<void>;
  embeddings(request: FastifyRequest, reply: FastifyReply, body: Record<string, unknown>): Promise<void>;
  /** The scopes and budget a key's requests for `model` count against (GET /usage/limits). */
  scopesOf(client: ClientKey, model: string | undefined, now: number): { scopes: RateScope[]; budget: BudgetScope | undefined };
}

export interface AdmissionDeps {
  store: LimitStore;
  settings: LimitSettings;
  /** Public model name -> targets: what a request may cost before it is known which serves it. */
  aliases: Map<string, Target[]>;
  recorder: UsageRecorder | undefined;
  metrics: Pick<Metrics, "rateLimited" | "budgetRemaining">;
}

const NAMES = { requests: "requests per minute (rpm)", tokens: "tokens per minute (tpm)", concurrency: "requests in flight (concurrency)" } as const;

export function createAdmission(deps: AdmissionDeps): Admission {
  const { store, settings, metrics } = deps;
  const prices = new PriceTable(settings.prices);
  const limited = (l: KeyLimits | undefined): l is KeyLimits => !!l && (l.rpm !== undefined || l.tpm !== undefined || l.concurrency !== undefined);

  const admission: Admission = {
    chat: (request, reply, body) => admission.admit(request, reply, String(body.model ?? ""), chatEstimate(body, settings.completionEstimate)),
    embeddings: (request, reply, body) => admission.admit(request, reply, String(body.model ?? ""), { prompt: embeddingsEstimate(body), completion: 0 }),

    scopesOf(client, model, now) {
      const scopes: RateScope[] = [];
      const own = client.limits ?? settings.defaults;
      if (limited(own)) scopes.push({ id: `key:${client.name}`, label: `key '${client.name}'`, limits: own });
      const ofModel = model === undefined ? undefined : settings.models.get(model);
      if (limited(ofModel)) scopes.push({ id: `model:${model}`, label: `model '${model}'`, limits: ofModel });
      let budget: BudgetScope | undefined;
      if (client.budget) {
        const period = periodOf(client.budget.period, now);
        budget = { id: `budget:${client.name}:${period.id}`, label: `key '${client.name}'`, limitMicros: Math.round(client.budget.usd * 1e6), resetsAt: period.resetsAt };
      }
      return { scopes, budget };
    },

    async admit(request, reply, model, asked) {
      const estimate = { prompt: asked.prompt, completion: asked.completion ?? settings.completionEstimate };
      const client = request.client!;
      const started = Date.now();
      const { scopes, budget } = admission.scopesOf(client, model, started);
      const targets = deps.aliases.get(model) ?? [{ provider: "", model }];
      const dearest = PriceTable.dearest(targets.map((t) => prices.priceOf(t.model, model)));
      if (budget && !dearest) {
        throw new GatewayError(400, `Model '${model}' has no price, and key '${client.name}' has a budget: the gateway's operator must give it one under \`prices\` (or \`prices["*"]\`).`, {
          type: "invalid_request_error",
          code: "model_not_priced",
          param: "model",
        });
      }
      const tokens = estimate.prompt + estimate.completion;
      const costMicros = PriceTable.costOf(dearest, { prompt: estimate.prompt, cached: 0, completion: estimate.completion });
      let grant: Grant | undefined;
      if (scopes.length > 0 || budget) {
        const result = await store.admit({ scopes, budget, tokens, costMicros });
        if (isRefusal(result)) {
          metrics.rateLimited.inc({ key: client.name, limit: result.kind });
          throw refusal(result);
        }
        grant = result;
        if (budget && result.spentMicros !== undefined) metrics.budgetRemaining.set({ key: client.name }, Math.max(0, budget.limitMicros - result.spentMicros) / 1e6);
        headers(reply, "requests", result.requests);
        headers(reply, "tokens", result.tokens);
      }
      // Nothing to settle and nowhere to record: the request's path carries no meter at all.
      if (!grant && !deps.recorder) return;
      const meter = (request.meter = new RequestMeter());
      // Recorded once the answer is whole, else at 'close' (cut short). Whole is 'prefinish': end()
      // has put the last bytes in the socket's buffer, so the client cannot have read them yet and
      // its next request (/usage included) finds the row; 'finish' comes only once the write is
      // done, which can be after that next request has been read. 'finish' too, for Fastify's
      // inject (the in-process MCP tools), whose writableFinished says false though its answer is whole.
      let recorded = false;
      const record = (finished: boolean) => {
        if (recorded) return;
        recorded = true;
        const used = meter.result(estimate.prompt, finished);
        const served = used.served;
        const cost = PriceTable.costOf(prices.priceOf(...(served ? [served.model] : []), model), used);
        grant?.settle(used.prompt + used.completion, cost);
        const ended = Date.now();
        deps.recorder?.record({
          ts: ended,
          day: new Date(ended).toISOString().slice(0, 10),
          requestId: String(request.id),
          key: client.name,
          route: request.routeOptions.url ?? request.url,
          model,
          servedModel: served?.model ?? null,
          provider: served?.provider ?? null,
          promptTokens: used.prompt,
          cachedTokens: used.cached,
          completionTokens: used.completion,
          costMicros: cost,
          status: finished ? reply.statusCode : 499,
          partial: used.partial,
        });
      };
      reply.raw.once("prefinish", () => record(true));
      reply.raw.once("finish", () => record(true));
      reply.raw.once("close", () => record(false));
    },
  };
  return admission;
}

/** The estimate a chat completion reserves: its messages' size (about four characters a token) and what it lets the answer use. */
export function chatEstimate(body: Record<string, unknown>, completionEstimate: number): Estimate {
  const prompt = Math.ceil(jsonLength(body.messages ?? "") / 4);
  const cap = [body.max_completion_tokens, body.max_tokens].find((v) => typeof v === "number" && v > 0) as number | undefined;
  return { prompt, completion: cap ?? completionEstimate };
}

/**
 * The length of a value's JSON (exact without escapes in its strings), counted without making it:
 * serialising the messages to measure them was a copy of the whole conversation on every request
 * (50 KB of garbage for a long one, and its time).
 */
export function jsonLength(value: unknown): number {
  switch (typeof value) {
    case "string":
      return value.length + 2;
    case "number":
    case "boolean":
      return String(value).length;
    case "object": {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let n = 2 + Math.max(0, value.length - 1);
        for (const v of value) n += jsonLength(v);
        return n;
      }
      let n = 2;
      let fields = 0;
      for (const key in value) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined || typeof v === "function") continue;
        n += key.length + 3 + jsonLength(v);
        fields++;
      }
      return n + Math.max(0, fields - 1);
    }
    default:
      return 0;
  }
}

/** About four characters a token: a value's estimate from its JSON, for the endpoints off the chat path. */
export const jsonTokens = (value: unknown): number => Math.ceil(JSON.stringify(value ?? "").length / 4);

/** Embeddings answer with no completion: the input's size alone. */
export function embeddingsEstimate(body: Record<string, unknown>): number {
  return Math.max(1, jsonTokens(body.input));
}

function headers(reply: FastifyReply, kind: "requests" | "tokens", state: LimitState | undefined): void {
  if (!state) return;
  reply.header(`x-ratelimit-limit-${kind}`, String(state.limit));
  reply.header(`x-ratelimit-remaining-${kind}`, String(state.remaining));
  reply.header(`x-ratelimit-reset-${kind}`, duration(state.resetMs));
}

function refusal(r: Refusal): GatewayError {
  if (r.kind === "unavailable") {
    return new GatewayError(503, "The gateway cannot check this key's budget right now (its limit store is out of reach), so it refuses rather than guess. Please try again shortly.", {
      type: "server_error",
      code: "budget_unavailable",
      headers: { "retry-after": String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))), "retry-after-ms": String(r.retryAfterMs) },
    });
  }
  if (r.kind === "budget") {
    const resets = r.resetsAt === undefined ? "It does not reset (period: total)." : `It resets at ${new Date(r.resetsAt).toISOString()}.`;
    return new GatewayError(
      429,
      `You exceeded the budget of ${r.scope}: $${usd(r.limitMicros)} per period, $${usd(r.spentMicros)} spent, this request may cost up to $${usd(r.requestedMicros)}. ${resets}`,
      { type: "insufficient_quota", code: "insufficient_quota", headers: { "x-should-retry": "false" } },
    );
  }
  const wait = `${Math.ceil(r.retryAfterMs / 100) / 10}s`;
  const asked = r.kind === "concurrency" ? "" : `, requested ${r.requested}`;
  const message = r.hopeless
    ? `This request's estimated ${r.kind === "tokens" ? r.requested : 1} tokens are more than the ${NAMES[r.kind]} limit of ${r.scope} (${r.limit}) allows at all: lower max_tokens or send less.`
    : `Rate limit reached for ${NAMES[r.kind]} on ${r.scope}: limit ${r.limit}, used ${r.used}${asked}. Please try again in ${wait}.`;
  const retry: Record<string, string> = r.hopeless ? { "x-should-retry": "false" } : { "retry-after": String(Math.max(1, Math.ceil(r.retryAfterMs / 1000))), "retry-after-ms": String(r.retryAfterMs) };
  return new GatewayError(429, message, { type: r.kind === "tokens" ? "tokens" : "requests", code: "rate_limit_exceeded", headers: retry });
}

const usd = (micros: number) => (micros / 1e6).toFixed(6).replace(/0{1,4}$/, "");

/** OpenAI writes resets as `1s`, `6m0s`, `20ms`. */
function duration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.ceil(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${s % 60}s`;
}
