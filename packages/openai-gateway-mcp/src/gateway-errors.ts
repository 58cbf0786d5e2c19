/**
 * The MCP server's one error model: a failed gateway call, described in words that say what
 * happened and what to do. Tool handlers throw it; the SDK renders it as an `isError` result.
 */
import { APIConnectionError, APIConnectionTimeoutError, APIError } from "openai/core/error";
import type { Settings } from "./settings.ts";

export class ToolFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ToolFailure";
  }
}

export interface FailureContext {
  settings: Settings;
  attempts: number;
  /** The client cancelled the call. */
  cancelled: boolean;
  /** The overall deadline passed. */
  deadlineMs: number | undefined;
  /** What was being done, e.g. "chat completion with model 'x'". */
  what: string;
  model?: string;
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
    return new ToolFailure(
      `The gateway did not answer the ${ctx.what} within TIMEOUT=${ctx.settings.timeoutMs / 1000} s (${tries}). ` +
        "Check the gateway, or raise TIMEOUT.",
    );
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
    switch (err.status) {
      case 401:
        return new ToolFailure(`The gateway rejected GATEWAY_API_KEY (401): ${said} Check the key this MCP server is configured with.`);
      case 403:
        return new ToolFailure(`The gateway refused the ${ctx.what} (403): ${said}`);
      case 404:
        return new ToolFailure(
          ctx.model && aboutTheModel(err, ctx.model)
            ? `The model '${ctx.model}' is not available through the gateway for this key (404). Call list_models to see the models you may use, or set DEFAULT_MODEL.`
            : `The gateway answered 404 for the ${ctx.what}: ${said} Check that GATEWAY_URL points at the gateway's OpenAI-compatible API.`,
        );
      case 429:
        return new ToolFailure(`The gateway is rate limiting this key (429), still after ${tries}: ${said} Wait a little and try again.`);
    }
    if (err.status >= 500) {
      return new ToolFailure(`The gateway or the model provider behind it failed (${err.status}) after ${tries}: ${said} Try again later.`);
    }
    return new ToolFailure(`The gateway rejected the ${ctx.what} (${err.status}): ${said}`);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new ToolFailure(`The ${ctx.what} failed: ${message}`);
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
