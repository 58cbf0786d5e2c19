/**
 * The gateway's one error model. Every failure a client can see is a GatewayError, rendered as
 * OpenAI's error JSON so that the official SDKs map it to their own error classes by status.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  /** Response headers that belong with this error (e.g. retry-after from an upstream 429). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    message: string,
    opts: { type?: string; code?: string | null; param?: string | null; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.status = status;
    this.type = opts.type ?? defaultType(status);
    this.code = opts.code ?? null;
    this.param = opts.param ?? null;
    this.headers = opts.headers ?? {};
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status === 504) return "timeout_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, message, { param, code });

export const unauthorized = (message: string) =>
  new GatewayError(401, message, { code: "invalid_api_key" });

export const modelNotFound = (model: string) =>
  new GatewayError(404, `The model '${model}' does not exist or you do not have access to it.`, {
    param: "model",
    code: "model_not_found",
  });

export const upstreamTimeout = (what: string) =>
  new GatewayError(504, `The upstream did not answer in time (${what}).`, { code: "upstream_timeout" });

export const upstreamUnreachable = (provider: string, reason: string) =>
  new GatewayError(502, `Could not reach upstream provider '${provider}': ${reason}.`, {
    code: "upstream_unreachable",
  });
