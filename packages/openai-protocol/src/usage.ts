/** Token usage as OpenAI reports it on a completion, a stream's last chunk, or embeddings. */
export interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number; [k: string]: unknown };
  completion_tokens_details?: { reasoning_tokens?: number; [k: string]: unknown };
}

/** The sum of two usages, field by field; a field either side lacks counts as 0. */
export function addUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a) return b;
  if (!b) return a;
  const n = (x: number | undefined) => (typeof x === "number" ? x : 0);
  const sum: Usage = {
    prompt_tokens: n(a.prompt_tokens) + n(b.prompt_tokens),
    completion_tokens: n(a.completion_tokens) + n(b.completion_tokens),
    total_tokens: n(a.total_tokens) + n(b.total_tokens),
  };
  const cached = n(a.prompt_tokens_details?.cached_tokens) + n(b.prompt_tokens_details?.cached_tokens);
  if (cached > 0) sum.prompt_tokens_details = { cached_tokens: cached };
  const reasoning = n(a.completion_tokens_details?.reasoning_tokens) + n(b.completion_tokens_details?.reasoning_tokens);
  if (reasoning > 0) sum.completion_tokens_details = { reasoning_tokens: reasoning };
  return sum;
}

/**
 * The Responses API (and images, audio) report usage as input and output tokens: the same counts,
 * in chat's names, so every route counts alike. A chat usage block passes as it is.
 */
export function asChatUsage(raw: unknown): Usage | undefined {
  if (!raw || typeof raw !== "object") return undefined;
  const u = raw as Usage & { input_tokens?: number; output_tokens?: number; input_tokens_details?: { cached_tokens?: number }; output_tokens_details?: { reasoning_tokens?: number } };
  if (typeof u.prompt_tokens === "number" || typeof u.input_tokens !== "number") return u;
  const out: Usage = { prompt_tokens: u.input_tokens, completion_tokens: u.output_tokens ?? 0, total_tokens: u.total_tokens ?? u.input_tokens + (u.output_tokens ?? 0) };
  if (u.input_tokens_details?.cached_tokens) out.prompt_tokens_details = { cached_tokens: u.input_tokens_details.cached_tokens };
  if (u.output_tokens_details?.reasoning_tokens) out.completion_tokens_details = { reasoning_tokens: u.output_tokens_details.reasoning_tokens };
  return out;
}
