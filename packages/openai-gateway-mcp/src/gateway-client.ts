/**
 * Calls the gateway, wrapped in p-retry: TIMEOUT bounds each attempt, one overall deadline bounds
 * the whole call, and the client's cancellation aborts the HTTP request at once with no retry
 * after it. Plain answers take a lean JSON request (gateway-http.ts); streamed answers, for
 * progress, take the official openai SDK (its own retries off), loaded in the background after
 * initialize so that it costs neither the server's start nor the first streamed call.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type OpenAI from "openai";
import { APIConnectionTimeoutError } from "openai/core/error";
import pRetry, { AbortError } from "p-retry";
import { describeFailure } from "./gateway-errors.ts";
import { createJsonClient } from "./gateway-http.ts";
import type { Logger } from "./log.ts";
import { isRetryable, retryDelayMs } from "./retry-policy.ts";
import type { Settings } from "./settings.ts";

export interface ChatRequest {
  model: string;
  messages: { role: string; content: string; name?: string | undefined; tool_call_id?: string | undefined }[];
  [option: string]: unknown;
}

export interface ChatAnswer {
  model: string;
  content: string;
  finish_reason: string | null;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

export interface ModelInfo {
  id: string;
  owned_by: string;
  created: number;
}

export interface GatewayClient {
  /** With `onText`, streams and reports the text so far as it grows. */
  chat(request: ChatRequest, opts: { signal?: AbortSignal | undefined; onText?: ((textSoFar: string) => void) | undefined }): Promise<ChatAnswer>;
  listModels(opts: { signal?: AbortSignal | undefined }): Promise<ModelInfo[]>;
  /** Start loading the SDK for streamed answers now (after initialize), not on the first one. */
  preload(): void;
}

/** Room for the backoff waits between attempts, on top of TIMEOUT per attempt. */
const WAIT_ALLOWANCE_MS = 30_000;

export function createGatewayClient(settings: Settings, log: Logger): GatewayClient {
  const http = createJsonClient(settings.gatewayUrl, settings.gatewayApiKey);
  let sdk: Promise<OpenAI> | undefined;
  const streamingClient = () =>
    (sdk ??= import("openai").then(
      ({ default: OpenAI }) => new OpenAI({ baseURL: settings.gatewayUrl, apiKey: settings.gatewayApiKey, maxRetries: 0, timeout: settings.timeoutMs }),
    ));
  const overallMs = settings.timeoutMs * (settings.maxRetries + 1) + WAIT_ALLOWANCE_MS;

  async function call<T>(what: string, model: string | undefined, signal: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = AbortSignal.timeout(overallMs);
    const callSignal = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const startedAt = performance.now();
    let attempts = 0;
    try {
      return await pRetry(
        async () => {
          attempts++;
          const attemptTimeout = AbortSignal.timeout(settings.timeoutMs);
          try {
            return await attempt(AbortSignal.any([callSignal, attemptTimeout]));
          } catch (err) {
            if (!attemptTimeout.aborted || callSignal.aborted) throw err;
            // The SDK reports our per-attempt abort as a user abort: call it what it is, a timeout,
            // still final if the answer had already started (AbortError stops p-retry).
            const timeout = new APIConnectionTimeoutError();
            throw err instanceof AbortError ? new AbortError(timeout) : timeout;
          }
        },
        {
          retries: settings.maxRetries,
          signal: callSignal,
          // No delay of p-retry's own: the wait depends on the error (Retry-After), so shouldRetry takes it.
          minTimeout: 0,
          maxTimeout: 0,
          onFailedAttempt: ({ error, attemptNumber }) =>
            log.warn(`${what}: attempt ${attemptNumber} failed`, { error: error.message }),
          shouldRetry: async ({ error, retriesConsumed }) => {
            if (!isRetryable(error)) return false;
            const delay = retryDelayMs(error, retriesConsumed + 1);
            if (performance.now() - startedAt + delay > overallMs) return false;
            log.info(`${what}: retrying in ${Math.round(delay)} ms`);
            await sleep(delay, undefined, { signal: callSignal });
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
        what,
        model,
      });
    }
  }

  return {
    chat(request, { signal, onText }) {
      return call(`chat completion with model '${request.model}'`, request.model, signal, async (s) => {
        if (!onText) {
          const c = await http.post<OpenAI.ChatCompletion>("/chat/completions", { ...request, stream: false }, s);
          const choice = c.choices[0];
          return {
            model: c.model,
            content: choice?.message.content ?? choice?.message.refusal ?? "",
            finish_reason: choice?.finish_reason ?? null,
            usage: usageOf(c.usage),
          };
        }
        const openai = await streamingClient();
        const stream = await openai.chat.completions.create(
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
      return call("model list", undefined, signal, async (s) => {
        const page = await http.get<{ data: OpenAI.Model[] }>("/models", s);
        return page.data.map((m) => ({ id: m.id, owned_by: m.owned_by ?? "", created: m.created ?? 0 }));
      });
    },
    preload() {
      streamingClient().catch(() => {
        // a broken install shows on the first streamed call, with its own error
      });
    },
  };
}

function usageOf(u: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined | null): ChatAnswer["usage"] {
  return u ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens } : null;
}
