/** The Responses API's usage block, and the sum over the rounds of a loop (what the client is shown). */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

const n = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

export function addResponsesUsage(sum: ResponsesUsage | undefined, raw: unknown): ResponsesUsage | undefined {
  if (!raw || typeof raw !== "object") return sum;
  const u = raw as { input_tokens?: unknown; output_tokens?: unknown; total_tokens?: unknown; input_tokens_details?: { cached_tokens?: unknown }; output_tokens_details?: { reasoning_tokens?: unknown } };
  const base = sum ?? { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 };
  return {
    input_tokens: base.input_tokens + n(u.input_tokens),
    input_tokens_details: { cached_tokens: base.input_tokens_details.cached_tokens + n(u.input_tokens_details?.cached_tokens) },
    output_tokens: base.output_tokens + n(u.output_tokens),
    output_tokens_details: { reasoning_tokens: base.output_tokens_details.reasoning_tokens + n(u.output_tokens_details?.reasoning_tokens) },
    total_tokens: base.total_tokens + (u.total_tokens === undefined ? n(u.input_tokens) + n(u.output_tokens) : n(u.total_tokens)),
  };
}
