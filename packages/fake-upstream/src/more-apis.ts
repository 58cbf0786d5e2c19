/**
 * The rest of the OpenAI API as the fake upstream answers it, in the shapes OpenAI's API reference
 * shows: legacy text completions (whole or streamed), moderations and image generations (Responses
 * live in responses.ts, audio in audio.ts). Words are tokens, as for chat, so tests can predict usage.
 */
import { CREATED, pieces, wordCount as words } from "./completions.ts";


export function textCompletion(id: string, body: { model?: string; prompt?: unknown }) {
  const prompt = Array.isArray(body.prompt) ? body.prompt.join(" ") : String(body.prompt ?? "");
  const text = ` echo: ${prompt}`;
  return {
    id,
    object: "text_completion",
    created: CREATED,
    model: body.model ?? "gpt-3.5-turbo-instruct",
    choices: [{ text, index: 0, logprobs: null, finish_reason: "stop" }],
    usage: { prompt_tokens: words(prompt), completion_tokens: pieces(text).length, total_tokens: words(prompt) + pieces(text).length },
  };
}

/** Text completion chunks (each a whole text_completion with a piece of the text), then usage when asked. */
export function textCompletionChunks(id: string, body: { model?: string; prompt?: unknown; stream_options?: { include_usage?: boolean } }): object[] {
  const whole = textCompletion(id, body);
  const parts = pieces(whole.choices[0]!.text);
  const base = { id, object: "text_completion", created: CREATED, model: whole.model };
  const chunks: object[] = parts.map((text, i) => ({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: i === parts.length - 1 ? "stop" : null }] }));
  if (body.stream_options?.include_usage === true) chunks.push({ ...base, choices: [], usage: whole.usage });
  return chunks;
}

export function moderation(id: string, body: { model?: string; input?: unknown }) {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  return {
    id,
    model: body.model ?? "omni-moderation-latest",
    results: inputs.map((i) => {
      const flagged = /\bhate\b/i.test(typeof i === "string" ? i : JSON.stringify(i));
      return { flagged, categories: { hate: flagged, violence: false }, category_scores: { hate: flagged ? 0.97 : 0.001, violence: 0.001 } };
    }),
  };
}

// A 1x1 transparent PNG.
const PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

export function imageGeneration(body: { n?: number; prompt?: string }) {
  const n = typeof body.n === "number" && body.n > 0 ? body.n : 1;
  return {
    created: CREATED,
    data: Array.from({ length: n }, () => ({ b64_json: PIXEL, revised_prompt: body.prompt })),
    usage: { input_tokens: words(body.prompt ?? ""), output_tokens: 0, total_tokens: words(body.prompt ?? ""), input_tokens_details: { text_tokens: words(body.prompt ?? ""), image_tokens: 0 } },
  };
}
