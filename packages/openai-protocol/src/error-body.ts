/**
 * OpenAI's error body, which every OpenAI SDK parses: `{"error":{"message","type","param","code"}}`,
 * and the status table the SDKs build their error classes from (openai-node's `APIError.generate`).
 */
export interface OpenAIError {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

export interface OpenAIErrorBody {
  error: OpenAIError;
}

/** What each status means to a client, as openai-node names its error classes. */
export type StatusClass =
  | "bad_request"
  | "authentication"
  | "permission_denied"
  | "not_found"
  | "conflict"
  | "unprocessable"
  | "rate_limit"
  | "server_error"
  | "other";

export function statusClass(status: number): StatusClass {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "authentication";
    case 403:
      return "permission_denied";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 422:
      return "unprocessable";
    case 429:
      return "rate_limit";
  }
  return status >= 500 ? "server_error" : "other";
}

/** The `type` OpenAI's API gives an error of this status when nothing more specific applies. */
export function errorTypeFor(status: number): string {
  switch (statusClass(status)) {
    case "authentication":
      return "authentication_error";
    case "permission_denied":
      return "permission_error";
    case "not_found":
      return "not_found_error";
    case "rate_limit":
      return "rate_limit_error";
    case "server_error":
      return status === 504 ? "timeout_error" : "api_error";
  }
  return "invalid_request_error";
}

/** The parts of an upstream's error body worth relaying, whatever shape it came in. */
export interface ErrorFields {
  message?: string;
  type?: string;
  param?: string;
  code?: string;
}

/**
 * Reads an error body: OpenAI's `{"error":{...}}`, a bare `{"error":"text"}`, or `{"message":...}`
 * as some OpenAI-compatible servers send. Only strings (and numeric codes, as strings) are kept;
 * undefined when the text is not JSON or has none of these.
 */
export function readErrorFields(value: unknown): ErrorFields | undefined {
  if (!value || typeof value !== "object") return undefined;
  const outer = value as Record<string, unknown>;
  const inner = outer.error;
  if (typeof inner === "string") return { message: inner };
  const e = (inner && typeof inner === "object" ? inner : "message" in outer ? outer : undefined) as Record<string, unknown> | undefined;
  if (!e) return undefined;
  const fields: ErrorFields = {};
  if (typeof e.message === "string") fields.message = e.message;
  if (typeof e.type === "string") fields.type = e.type;
  if (typeof e.param === "string") fields.param = e.param;
  if (typeof e.code === "string" || typeof e.code === "number") fields.code = String(e.code);
  return fields;
}

/** JSON.parse that answers undefined instead of throwing. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
