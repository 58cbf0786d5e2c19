/**
 * The audio API as the fake answers it: transcriptions and translations of an uploaded file (in each
 * response_format, and transcriptions as a stream of text deltas) and speech as binary audio. Every
 * answer is derived from the request alone: the transcript names the file, its size and its hash, and
 * the speech bytes come from the input text, so a test can predict them exactly.
 */
import type { ServerResponse } from "node:http";
import type { RecordedFile, RecordedForm } from "./form.ts";
import { openAIError } from "./errors.ts";
import { pieces, wordCount as words } from "./completions.ts";
import { missing, sendJson } from "./replies.ts";
import { writeEvent } from "./sse.ts";

const TEXT_FORMATS = ["json", "text", "srt", "verbose_json", "vtt"];

export const transcript = (f: RecordedFile) => `transcript of ${f.name}: ${f.size} bytes, sha256 ${f.sha256.slice(0, 12)}`;

// As if the file were 128 kbit/s audio: 16,000 bytes a second.
const durationOf = (f: RecordedFile) => Math.round((f.size / 16_000) * 100) / 100;

/** Token usage as gpt-4o-transcribe reports it: audio tokens (one per KiB here) plus the prompt's words. */
function tokens(f: RecordedFile, prompt: string, text: string) {
  const audio = Math.max(1, Math.ceil(f.size / 1024));
  const input = audio + words(prompt);
  return { type: "tokens", input_tokens: input, input_token_details: { text_tokens: words(prompt), audio_tokens: audio }, output_tokens: words(text), total_tokens: input + words(text) };
}

/** POST /v1/audio/transcriptions and /v1/audio/translations (multipart). */
export async function audioText(res: ServerResponse, form: RecordedForm | undefined, task: "transcribe" | "translate", signal: AbortSignal): Promise<void> {
  const file = form?.files.find((f) => f.field === "file");
  if (!file) return sendJson(res, 400, missing("file"));
  if (!form!.fields.model) return sendJson(res, 400, missing("model"));
  const { response_format: format = "json", prompt = "" } = form!.fields;
  if (!TEXT_FORMATS.includes(format)) {
    const message = `Invalid value: '${format}'. Supported values are: ${TEXT_FORMATS.map((f) => `'${f}'`).join(", ")}.`;
    return sendJson(res, 400, openAIError(400, message, "invalid_value", "response_format"));
  }
  const text = transcript(file);
  const duration = durationOf(file);
  if (task === "transcribe" && form!.fields.stream === "true") return streamTranscript(res, text, tokens(file, prompt, text), signal);
  if (format === "text") return sendText(res, text);
  if (format === "srt") return sendText(res, `1\n00:00:00,000 --> ${timestamp(duration, ",")}\n${text}\n\n`);
  if (format === "vtt") return sendText(res, `WEBVTT\n\n00:00:00.000 --> ${timestamp(duration, ".")}\n${text}\n\n`);
  if (format === "verbose_json") {
    const segment = { id: 0, seek: 0, start: 0, end: duration, text, tokens: Array.from({ length: words(text) }, (_, i) => 1000 + i), temperature: 0, avg_logprob: -0.1, compression_ratio: 1, no_speech_prob: 0 };
    // Only transcriptions report usage; a verbose transcription reports it as seconds.
    const usage = task === "transcribe" ? { usage: { type: "duration", seconds: Math.ceil(duration) } } : {};
    return sendJson(res, 200, { task, language: "english", duration, text, segments: [segment], ...usage });
  }
  return sendJson(res, 200, task === "transcribe" ? { text, usage: tokens(file, prompt, text) } : { text });
}

function sendText(res: ServerResponse, text: string): void {
  res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const timestamp = (seconds: number, comma: string) => {
  const ms = Math.round(seconds * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${comma}${pad(ms % 1000, 3)}`;
};

/** The transcript as OpenAI streams it: a delta per word, then the whole text with usage; no [DONE]. */
async function streamTranscript(res: ServerResponse, text: string, usage: object, signal: AbortSignal): Promise<void> {
  res.socket?.setNoDelay(true);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const delta of pieces(text)) if (signal.aborted || !(await writeEvent(res, { type: "transcript.text.delta", delta }))) return;
  if (await writeEvent(res, { type: "transcript.text.done", text, usage })) res.end();
}

// Each format's content type and the first bytes a player would look for.
const SPEECH_FORMATS: Record<string, { contentType: string; header: Buffer }> = {
  mp3: { contentType: "audio/mpeg", header: Buffer.from([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0]) }, // "ID3" v2.4, empty tag
  opus: { contentType: "audio/ogg", header: Buffer.from("OggS\0", "latin1") },
  aac: { contentType: "audio/aac", header: Buffer.from([0xff, 0xf1]) },
  flac: { contentType: "audio/flac", header: Buffer.from("fLaC", "latin1") },
  wav: { contentType: "audio/wav", header: Buffer.from("RIFF\0\0\0\0WAVEfmt ", "latin1") },
  pcm: { contentType: "audio/pcm", header: Buffer.alloc(0) },
};

const WORD_BYTES = 4096;

/** The speech as the fake writes it: the format's header with the first word, then 4 KiB per further word. */
function speechChunks(input: string, format: string): Buffer[] {
  const { header } = SPEECH_FORMATS[format] ?? SPEECH_FORMATS.mp3!;
  const list = input.split(/\s+/).filter(Boolean);
  const chunks = (list.length ? list : [""]).map((word, i) => noise(`${i}:${word}`, WORD_BYTES));
  chunks[0] = Buffer.concat([header, chunks[0]!]);
  return chunks;
}

/** The exact bytes POST /v1/audio/speech answers for this input and response_format. */
export function speechBytes(input: string, format = "mp3"): Buffer {
  return Buffer.concat(speechChunks(input, format));
}

/** `n` bytes from an FNV-1a walk seeded by the text: the same text always sounds the same. */
function noise(seed: string, n: number): Buffer {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    h = Math.imul(h ^ i, 0x01000193);
    out[i] = h >>> 24;
  }
  return out;
}

/** POST /v1/audio/speech: binary audio in several chunks, without a content-length (chunked), as OpenAI streams it. */
export async function speech(res: ServerResponse, body: any, signal: AbortSignal): Promise<void> {
  for (const param of ["model", "input", "voice"]) if (!body?.[param]) return sendJson(res, 400, missing(param));
  const format = body.response_format ?? "mp3";
  const spec = SPEECH_FORMATS[format];
  if (!spec) {
    const message = `Invalid value: '${format}'. Supported values are: ${Object.keys(SPEECH_FORMATS).map((f) => `'${f}'`).join(", ")}.`;
    return sendJson(res, 400, openAIError(400, message, "invalid_value", "response_format"));
  }
  res.socket?.setNoDelay(true);
  res.writeHead(200, { "content-type": spec.contentType, "transfer-encoding": "chunked" });
  for (const chunk of speechChunks(String(body.input), format)) {
    if (signal.aborted) return;
    // One write at a time, each on its way before the next: the client sees the audio arrive in parts.
    const ok = await new Promise<boolean>((resolve) => res.write(chunk, (err) => resolve(!err)));
    if (!ok) return;
  }
  res.end();
}
