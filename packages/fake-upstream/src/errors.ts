/**
 * OpenAI's error envelope. The fake answers every error in this shape (unless a test asks for
 * another body) because that is what OpenAI clients, and the gateway, parse.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAIError(
  status: number,
  message = defaultMessage(status),
  code: string | null = status === 429 ? "rate_limit_exceeded" : null,
  param: string | null = null,
): OpenAIErrorBody {
  return { error: { message, type: errorType(status), param, code } };
}

// The types OpenAI itself sends, so clients that branch on them see the real values.
function errorType(status: number): string {
  if (status === 429) return "requests";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

function defaultMessage(status: number): string {
  if (status === 429) return "Rate limit reached for requests (fake-upstream).";
  if (status >= 500) return "The server had an error while processing your request (fake-upstream).";
  return `fake-upstream error ${status}.`;
}
