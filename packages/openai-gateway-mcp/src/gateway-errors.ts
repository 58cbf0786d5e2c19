/**
 * The MCP server's one error model: a failed gateway call, described in words that say what
 * happened and what to do. Tool handlers throw it; the SDK renders it as an `isError` result.
 */
import { ToolFailure } from "@mcpgw/mcp-tools";
import { isRetryableStatus, retryAfterMs, statusClass } from "@mcpgw/openai-protocol";
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai/core/error";
import type { Settings } from "./settings.ts";

export { ToolFailure };

/** Why the last failure was not tried again, when something decided so (else the attempts ran out). */
export type StopReason =
  | "not retryable"
  | "x-should-retry: false"
  | "retry-after beyond the cap"
  | "attempts used up"
  /** A streamed answer whose text had begun to arrive. */
  | "answer started"
  /** A plain chat answer that outlasted TIMEOUT: the gateway may still be generating it. */
  | "plain answer timed out"
  | "upstream credentials refused";

/** The gateway's code for a model provider that refused the gateway's own credentials (sent as a 502). */
export const UPSTREAM_AUTH_FAILED = "upstream_auth_failed";

export function isUpstreamAuthFailure(err: unknown): boolean {
  return err instanceof APIError && err.code === UPSTREAM_AUTH_FAILED;
}

export interface FailureContext {
  settings: Settings;
  attempts: number;
  /** The client cancelled the call. */
  cancelled: boolean;
  /** The overall deadline passed. */
  deadlineMs: number | undefined;
  stop?: StopReason | undefined;
  /** What was being done, e.g. "chat completion with model 'x'". */
  what: string;
  model?: string | undefined;
}

export function describeFailure(err: unknown, ctx: FailureContext): ToolFailure {
  const tries = ctx.attempts === 1 ? "1 attempt" : `${ctx.attempts} attempts`;
  if (ctx.cancelled) return new ToolFailure(`The ${ctx.what} was cancelled by the client.`);
  if (ctx.deadlineMs !== undefined) {
    return new ToolFailure(
      `The ${ctx.what} got no answer within the overall deadline of ${ctx.deadlineMs / 1000} s (${tries}). ` +
        "Check that the gateway is healthy, or raise TIMEOUT.",
    );
  }
  if (err instanceof APIConnectionTimeoutError) {
    const timeout = `TIMEOUT=${ctx.settings.timeoutMs / 1000} s`;
    if (ctx.stop === "plain answer timed out") {
      return new ToolFailure(
        `The gateway did not answer the ${ctx.what} within ${timeout}. It was not asked for again: the gateway may still ` +
          "be generating the answer, and a second request would pay for it twice. If the model is slow or the answer long, raise TIMEOUT.",
      );
    }
    return new ToolFailure(`The gateway did not answer the ${ctx.what} within ${timeout} (${tries}). Check the gateway, or raise TIMEOUT.`);
  }
  if (err instanceof APIConnectionError) {
    const reason = rootCause(err);
    return new ToolFailure(
      `Could not reach the gateway at ${ctx.settings.gatewayUrl} (${reason}; ${tries}). ` +
        "Check GATEWAY_URL and that the gateway is running.",
    );
  }
  if (err instanceof APIError && err.status !== undefined) {
    const said = gatewayMessage(err);
    if (isUpstreamAuthFailure(err)) {
      // The gateway's own provider key, not the user's: a different person has to act.
      return new ToolFailure(
        `The model provider behind the gateway refused the gateway's own credentials (${err.status} ${UPSTREAM_AUTH_FAILED}): ${said} ` +
          "Your GATEWAY_API_KEY was accepted; the provider key in the gateway's configuration needs fixing: ask the gateway's operator.",
      );
    }
    const notAgain = whyNotAgain(err, ctx.stop);
    switch (statusClass(err.status)) {
      case "authentication":
        return new ToolFailure(`The gateway rejected GATEWAY_API_KEY (${err.status}): ${said} Check the key this MCP server is configured with.`);
      case "permission_denied":
        return new ToolFailure(`The gateway refused the ${ctx.what} (${err.status}): ${said}`);
      case "not_found":
        return new ToolFailure(
          ctx.model && aboutTheModel(err, ctx.model)
            ? `The model '${ctx.model}' is not available through the gateway for this key (404). Call list_models to see the models you may use, or set DEFAULT_MODEL.`
            : `The gateway answered 404 for the ${ctx.what}: ${said} Check that GATEWAY_URL points at the gateway's OpenAI-compatible API.`,
        );
      case "rate_limit": {
        const still = ctx.attempts > 1 ? `, still after ${tries}` : "";
        return new ToolFailure(`The gateway is rate limiting this key (${err.status})${still}: ${said}${notAgain} Wait a little and try again.`);
      }
      case "server_error":
        return new ToolFailure(`The gateway or the model provider behind it failed (${err.status}) after ${tries}: ${said}${notAgain} Try again later.`);
    }
    return new ToolFailure(`The gateway rejected the ${ctx.what} (${err.status}): ${said}${notAgain}`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ToolFailure(`The ${ctx.what} failed: ${message}`);
}

/** Why a failure that is usually retried was not, in the gateway's terms; empty when it was retried to the end. */
function whyNotAgain(err: APIError, stop: StopReason | undefined): string {
  if (err.status === undefined || !isRetryableStatus(err.status)) return "";
  if (stop === "x-should-retry: false") return " The gateway said not to retry it (it had retried the provider itself, or the failure will not clear soon).";
  if (stop === "retry-after beyond the cap") {
    const ms = err.headers ? retryAfterMs((name) => err.headers?.get(name)) : undefined;
    return ms === undefined ? " The gateway asked for a long wait before trying again." : ` The gateway asked to wait ${Math.round(ms / 1000)} s before trying again.`;
  }
  return "";
}

/** A 404 for the model (OpenAI's code or param, or a message quoting its name), not for a wrong GATEWAY_URL path. */
function aboutTheModel(err: APIError, model: string): boolean {
  const said = gatewayMessage(err);
  return err.code === "model_not_found" || err.param === "model" || ["'", '"', "`"].some((q) => said.includes(`${q}${model}${q}`));
}

/** The gateway's own words: the OpenAI error body's message when there is one. */
function gatewayMessage(err: APIError): string {
  const body = err.error as { message?: unknown } | undefined;
  const text = typeof body?.message === "string" ? body.message : err.message;
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** fetch wraps the useful code (ECONNREFUSED, ENOTFOUND...) a level or two down: "fetch failed" says little. */
function rootCause(err: Error): string {
  let reason = err.message;
  for (let c: unknown = err.cause, depth = 0; c && depth < 4; c = (c as Error).cause, depth++) {
    const { code, message } = c as { code?: string; message?: string };
    if (code) return code;
    if (message) reason = message;
  }
  return reason;
}
