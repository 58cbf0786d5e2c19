/**
 * The gateway's one error model. Every failure a client can see is a GatewayError, rendered as
 * OpenAI's error JSON so that the official SDKs map it to their own error classes by status.
 */
import { errorTypeFor, type OpenAIErrorBody } from "@mcpgw/openai-protocol";
import { clip } from "./client-text.ts";

export type { OpenAIErrorBody };

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  /** Response headers that belong with this error (retry-after from an upstream 429, x-should-retry). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    opts: { type?: string; code?: string | null; param?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.status = status;
    this.type = opts.type ?? errorTypeFor(status);
    this.code = opts.code ?? null;
    this.param = opts.param ?? null;
    this.headers = opts.headers ?? {};
  }

  /** The same error with more response headers. */
  withHeaders(headers: Record<string, string>): GatewayError {
    return new GatewayError(this.status, this.message, { type: this.type, code: this.code, param: this.param, headers: { ...this.headers, ...headers } });
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, message, { param, code });

export const unauthorized = (message: string) =>
  new GatewayError(401, message, { code: "invalid_api_key" });

export const modelNotFound = (model: string) =>
  new GatewayError(404, `The model '${clip(model, 256)}' does not exist or you do not have access to it.`, {
    param: "model",
    code: "model_not_found",
  });

export const upstreamTimeout = (what: string) =>
  new GatewayError(504, `The upstream did not answer in time (${what}).`, { code: "upstream_timeout" });

export const upstreamUnreachable = (provider: string, reason: string) =>
  new GatewayError(502, `Could not reach upstream provider '${provider}': ${reason}.`, {
    code: "upstream_unreachable",
  });

export const upstreamBadResponse = (provider: string, what: string) =>
  new GatewayError(502, `Upstream provider '${provider}' sent an answer the gateway cannot read: ${what}.`, {
    code: "upstream_bad_response",
  });
