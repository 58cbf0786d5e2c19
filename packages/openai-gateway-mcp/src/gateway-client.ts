/**
 * Calls the gateway with the official openai SDK (its own retries off), plain and streamed calls
 * alike, wrapped in p-retry: TIMEOUT bounds each attempt, one overall deadline bounds the whole
 * call, and the client's cancellation aborts the HTTP request at once with no retry after it.
 * The SDK is loaded in the background after initialize, so the server's start does not pay for it;
 * a call that comes before it is loaded waits for it.
 *
 * What is retried is the shared rule (@mcpgw/openai-protocol's decideRetry: 408, 409, 429, 5xx,
 * connection errors and timeouts, and the gateway's x-should-retry has the last word), so the
 * gateway's retries and these do not multiply. Two failures are never asked again here: a plain
 * chat answer that outlasted TIMEOUT (the gateway may still be generating it; a second request
 * would pay for it twice) and the gateway's 502 upstream_auth_failed (its own provider key was
 * refused, which fails the same way every time).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { decideRetry, OPENAI_RETRY, type RetryDecision, type RetrySettings } from "@mcpgw/openai-protocol";
import type OpenAI from "openai";
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai/core/error";
import pRetry, { AbortError } from "p-retry";
import type { ChatAnswer, ModelBackend } from "@mcpgw/mcp-tools";
import { describeFailure, isUpstreamAuthFailure, type StopReason } from "./gateway-errors.ts";
import type { Logger } from "./log.ts";
import type { Settings } from "./settings.ts";

export type { ChatAnswer, ChatRequest, ModelInfo } from "@mcpgw/mcp-tools";

/** The model tools' backend over HTTP: the gateway's OpenAI API, as GATEWAY_API_KEY. */
export interface GatewayClient extends ModelBackend {
  /** Start loading the SDK now (after initialize), not on the first call. */
  preload(): void;
}

/** Room for the backoff waits between attempts, on top of TIMEOUT per attempt. */
const WAIT_ALLOWANCE_MS = 30_000;
/** Our per-attempt TIMEOUT is the one that fires; the SDK's own timeout only backs it up. */
const SDK_TIMEOUT_SLACK_MS = 5_000;

interface CallOptions {
  /** What is being done, for messages: "chat completion with model 'x'". */
  what: string;
  model?: string | undefined;
  signal: AbortSignal | undefined;
  /** Whether an attempt that outlasted TIMEOUT may be made again. */
  retryTimeouts: boolean;
}

export function createGatewayClient(settings: Settings, log: Logger): GatewayClient {
  let sdk: Promise<OpenAI> | undefined;
  const openai = () =>
    (sdk ??= import("openai").then(
      ({ default: OpenAI }) =>
        new OpenAI({ baseURL: settings.gatewayUrl, apiKey: settings.gatewayApiKey, maxRetries: 0, timeout: settings.timeoutMs + SDK_TIMEOUT_SLACK_MS }),
    ));
  const retry: RetrySettings = { ...OPENAI_RETRY, maxAttempts: settings.maxRetries + 1 };
  const overallMs = settings.timeoutMs * (settings.maxRetries + 1) + WAIT_ALLOWANCE_MS;

  async function call<T>(opts: CallOptions, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { what, signal } = opts;
    const deadline = AbortSignal.timeout(overallMs);
    const callSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const startedAt = performance.now();
    let attempts = 0;
    let stop: StopReason | undefined;
    try {
      return await pRetry(
        async () => {
          attempts++;
          const attemptTimeout = AbortSignal.timeout(settings.timeoutMs);
          try {
            return await attempt(AbortSignal.any([callSignal, attemptTimeout]));
          } catch (err) {
            if (callSignal.aborted) throw err;
            if (!attemptTimeout.aborted && !(err instanceof APIConnectionTimeoutError)) throw err;
            // The SDK reports our per-attempt abort as a user abort: call it what it is, a timeout.
            // Final (AbortError stops p-retry) if the answer had already started, or if asking
            // again would pay for a generation the gateway may still be running.
            const timeout = new APIConnectionTimeoutError();
            if (err instanceof AbortError) {
              stop = "answer started";
              throw new AbortError(timeout);
            }
            if (!opts.retryTimeouts) {
              stop = "plain answer timed out";
              log.warn(`${what}: attempt ${attempts} timed out (TIMEOUT=${settings.timeoutMs / 1000} s); not asked for again, the gateway may still be generating it`);
              throw new AbortError(timeout);
            }
            throw timeout;
          }
        },
        {
          retries: settings.maxRetries,
          signal: callSignal,
          // No delay of p-retry's own: the wait depends on the error (Retry-After), so shouldRetry takes it.
          minTimeout: 0,
          maxTimeout: 0,
          onFailedAttempt: ({ error, attemptNumber }) => log.warn(`${what}: attempt ${attemptNumber} failed`, { error: error.message }),
          shouldRetry: async ({ error, attemptNumber }) => {
            const decision = retryDecision(error, attemptNumber, retry);
            if (!decision.retry) {
              stop = decision.why;
              return false;
            }
            if (performance.now() - startedAt + decision.delayMs > overallMs) return false;
            log.info(`${what}: retrying in ${Math.round(decision.delayMs)} ms`);
            await sleep(decision.delayMs, undefined, { signal: callSignal });
            return true;
          },
        },
      );
    } catch (err) {
      throw describeFailure(err, {
        settings,
        attempts,
        cancelled: signal?.aborted ?? false,
        deadlineMs: deadline.aborted ? overallMs : undefined,
        stop,
        what,
        model: opts.model,
      });
    }
  }

  return {
    defaultModel: settings.defaultModel,
    chat(request, { signal, onText }) {
      const what = `chat completion with model '${request.model}'`;
      return call({ what, model: request.model, signal, retryTimeouts: onText !== undefined }, async (s) => {
        const client = await openai();
        if (!onText) {
          const c = await client.chat.completions.create({ ...request, stream: false } as OpenAI.ChatCompletionCreateParamsNonStreaming, { signal: s });
          const choice = c.choices[0];
          return {
            model: c.model,
            content: choice?.message.content ?? choice?.message.refusal ?? "",
            finish_reason: choice?.finish_reason ?? null,
            usage: usageOf(c.usage),
          };
        }
        const stream = await client.chat.completions.create(
          { ...request, stream: true, stream_options: { include_usage: true } } as OpenAI.ChatCompletionCreateParamsStreaming,
          { signal: s },
        );
        const answer: ChatAnswer = { model: request.model, content: "", finish_reason: null, usage: null };
        let started = false;
        try {
          for await (const chunk of stream) {
            started = true;
            if (chunk.model) answer.model = chunk.model;
            const choice = chunk.choices[0];
            if (choice?.delta?.content) {
              answer.content += choice.delta.content;
              onText(answer.content);
            }
            if (choice?.finish_reason) answer.finish_reason = choice.finish_reason;
            if (chunk.usage) answer.usage = usageOf(chunk.usage);
          }
          // The SDK ends a stream quietly when its signal aborts: TIMEOUT or the deadline mid-answer
          // must fail the call, not return the text so far as if it were the whole answer.
          s.throwIfAborted();
        } catch (err) {
          // Text has already been shown as progress: a retry would start the answer over.
          if (started) throw new AbortError(err as Error);
          throw err;
        }
        return answer;
      });
    },
    listModels({ signal }) {
      // Cheap and idempotent: a model list that outlasted TIMEOUT may be asked for again.
      return call({ what: "model list", signal, retryTimeouts: true }, async (s) => {
        const client = await openai();
        const page = await client.models.list({ signal: s });
        return page.data.map((m) => ({ id: m.id, owned_by: m.owned_by ?? "", created: m.created ?? 0 }));
      });
    },
    preload() {
      openai().catch(() => {
        // a broken install shows on the first call, with its own error
      });
    },
  };
}

/** The shared rule, fed what the SDK's errors carry, plus the one failure no retry can fix. */
function retryDecision(err: unknown, attempt: number, settings: RetrySettings): RetryDecision | { retry: false; why: StopReason } {
  if (isUpstreamAuthFailure(err)) return { retry: false, why: "upstream credentials refused" };
  if (err instanceof APIError && err.status !== undefined) {
    const { headers } = err;
    return decideRetry({ status: err.status, header: (name) => headers?.get(name) }, attempt, settings);
  }
  if (err instanceof APIConnectionError) return decideRetry({}, attempt, settings); // timeouts included
  return { retry: false, why: "not retryable" }; // not the gateway's failure (an unreadable answer, a bug)
}

function usageOf(u: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined | null): ChatAnswer["usage"] {
  return u ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens } : null;
}
