/**
 * The answers of the traffic-shapes scenario, picked by the model name as every other behaviour of
 * the static upstream is: `bench-answer-<1k|16k>-<length|chunked>`, a non-streaming chat.completion
 * of about 1 KB or 16 KB, sent with a content-length in one write, or without one (chunked) in
 * several writes, as an upstream does that sends a body while it is still producing it. Built once,
 * shared by the upstream process, the in-process upstream and the HTTPS one, so each sends the same bytes.
 */
import type { ServerResponse } from "node:http";

export const ANSWER_BYTES = { "1k": 1024, "16k": 16 * 1024 } as const;
export type AnswerSize = keyof typeof ANSWER_BYTES;
export type Framing = "length" | "chunked";
/** How many writes a chunked answer takes: small pieces for 1 KB, 2 KB pieces for 16 KB. */
const WRITES: Record<AnswerSize, number> = { "1k": 4, "16k": 8 };

export const answerModel = (size: AnswerSize, framing: Framing) => `bench-answer-${size}-${framing}`;

const PARAGRAPH =
  "A gateway sits between the client and the model: it checks the key, picks the provider, forwards the request and relays the answer. " +
  "Long answers are where a relay shows what it costs, because every byte it holds back or copies twice is time the client waits. ";

/** A chat.completion of exactly `bytes` bytes (ASCII), its content the padding. */
function completionOf(bytes: number): { body: Buffer; contentChars: number } {
  const shell = (content: string) =>
    JSON.stringify({
      id: "chatcmpl-shape00000000000000000000000",
      object: "chat.completion",
      created: 1_763_800_000,
      model: "bench",
      system_fingerprint: "fp_bench00000",
      choices: [{ index: 0, message: { role: "assistant", content, refusal: null }, logprobs: null, finish_reason: "stop" }],
      usage: { prompt_tokens: 1200, completion_tokens: Math.round(bytes / 4), total_tokens: 1200 + Math.round(bytes / 4) },
    });
  const chars = bytes - shell("").length;
  const content = PARAGRAPH.repeat(Math.ceil(chars / PARAGRAPH.length)).slice(0, chars);
  return { body: Buffer.from(shell(content)), contentChars: chars };
}

const ANSWERS = Object.fromEntries(Object.entries(ANSWER_BYTES).map(([size, bytes]) => [size, completionOf(bytes)])) as Record<AnswerSize, { body: Buffer; contentChars: number }>;

/** The length of the answer's message content: what a client checks to know the whole answer came. */
export const answerContentChars = (size: AnswerSize) => ANSWERS[size].contentChars;

const MODEL = /"model"\s*:\s*"bench-answer-(1k|16k)-(length|chunked)"/;

/** Sends the shaped answer when the request body names one; false when it does not (the caller answers). */
export function sendShapedAnswer(res: ServerResponse, body: string): boolean {
  const m = MODEL.exec(body);
  if (!m) return false;
  const { body: answer } = ANSWERS[m[1] as AnswerSize];
  if (m[2] === "length") {
    res.writeHead(200, { "content-type": "application/json", "content-length": answer.length });
    res.end(answer);
    return true;
  }
  res.writeHead(200, { "content-type": "application/json" });
  const writes = WRITES[m[1] as AnswerSize];
  const piece = Math.ceil(answer.length / writes);
  let i = 0;
  // One piece per turn of the event loop, so that each leaves as its own send (not coalesced into one).
  const next = () => {
    if (res.destroyed) return;
    const chunk = answer.subarray(i * piece, (i + 1) * piece);
    if (++i < writes) {
      res.write(chunk);
      setImmediate(next);
    } else res.end(chunk);
  };
  next();
  return true;
}
