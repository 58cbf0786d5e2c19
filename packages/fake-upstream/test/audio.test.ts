/**
 * The fake's audio API as the official openai SDK sees it: uploads recorded as a form (fields, and
 * files by name, size and hash), transcripts in each response_format and as a stream, and speech as
 * chunked binary audio whose exact bytes speechBytes() predicts.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { request } from "node:http";
import { after, before, beforeEach, test } from "node:test";
import OpenAI, { toFile } from "openai";
import { speechBytes, startFakeUpstream, type FakeUpstream } from "../src/index.ts";

let up: FakeUpstream;
let sdk: OpenAI;
before(async () => {
  up = await startFakeUpstream();
  sdk = new OpenAI({ apiKey: "sk-test", baseURL: up.url, maxRetries: 0 });
});
beforeEach(() => up.reset());
after(() => up.close());

// Bytes that are not valid UTF-8, so a body read as text would not survive.
const AUDIO = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256));
const SHA = createHash("sha256").update(AUDIO).digest("hex");
const TEXT = `transcript of clip.mp3: 3000 bytes, sha256 ${SHA.slice(0, 12)}`;
const file = () => toFile(AUDIO, "clip.mp3", { type: "audio/mpeg" });

test("a transcription: the form recorded as sent, the text names the file, usage in tokens", async () => {
  const result = await sdk.audio.transcriptions.create({ file: await file(), model: "gpt-4o-transcribe", prompt: "two words" });
  assert.deepEqual(result, {
    text: TEXT,
    usage: { type: "tokens", input_tokens: 3 + 2, input_token_details: { text_tokens: 2, audio_tokens: 3 }, output_tokens: 7, total_tokens: 12 },
  });
  const [req] = up.requests;
  assert.equal(req!.body, undefined);
  assert.deepEqual(req!.form, {
    fields: { model: "gpt-4o-transcribe", prompt: "two words" },
    files: [{ field: "file", name: "clip.mp3", type: "audio/mpeg", size: 3000, sha256: SHA }],
  });
  assert.ok(req!.rawBytes.includes(AUDIO), "rawBytes holds the upload exactly");
});

test("response formats: text, srt, vtt and verbose_json; translations report no usage", async () => {
  assert.equal(await sdk.audio.transcriptions.create({ file: await file(), model: "whisper-1", response_format: "text" }), TEXT);
  const srt = await sdk.audio.transcriptions.create({ file: await file(), model: "whisper-1", response_format: "srt" });
  assert.equal(srt, `1\n00:00:00,000 --> 00:00:00,190\n${TEXT}\n\n`);
  // The SDK's overloads type a translation's vtt as a Translation, though it returns the text.
  const vtt = (await sdk.audio.translations.create({ file: await file(), model: "whisper-1", response_format: "vtt" })) as unknown as string;
  assert.match(vtt, /^WEBVTT\n\n00:00:00\.000 --> /);
  const verbose = await sdk.audio.transcriptions.create({ file: await file(), model: "whisper-1", response_format: "verbose_json" });
  assert.deepEqual([verbose.text, verbose.language, verbose.duration, verbose.segments?.length, verbose.usage], [TEXT, "english", 0.19, 1, { type: "duration", seconds: 1 }]);
  assert.equal((verbose as unknown as { task: string }).task, "transcribe");
  const translated = await sdk.audio.translations.create({ file: await file(), model: "whisper-1" });
  assert.deepEqual(translated, { text: TEXT });
  const verboseTranslation = (await sdk.audio.translations.create({ file: await file(), model: "whisper-1", response_format: "verbose_json" })) as any;
  assert.deepEqual([verboseTranslation.task, "usage" in verboseTranslation], ["translate", false]);
});

test("a streamed transcription: a delta per word, then the whole text with usage", async () => {
  const stream = await sdk.audio.transcriptions.create({ file: await file(), model: "gpt-4o-transcribe", stream: true });
  const events: OpenAI.Audio.TranscriptionStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  const deltas = events.filter((e) => e.type === "transcript.text.delta");
  assert.equal(deltas.length, 7);
  assert.equal(deltas.map((d) => d.delta).join(""), TEXT);
  const done = events.at(-1) as OpenAI.Audio.TranscriptionTextDoneEvent;
  assert.deepEqual([done.type, done.text, done.usage?.total_tokens], ["transcript.text.done", TEXT, 10]);
});

test("missing file or model, and a malformed form, answer 400 in OpenAI's shape", async () => {
  const post = (form: FormData) => fetch(`${up.url}/audio/transcriptions`, { method: "POST", body: form });
  const noFile = new FormData();
  noFile.set("model", "whisper-1");
  const res = await post(noFile);
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { error: { message: "Missing required parameter: 'file'.", type: "invalid_request_error", param: "file", code: "missing_required_parameter" } });
  const noModel = new FormData();
  noModel.set("file", new Blob([AUDIO]), "a.wav");
  assert.equal(((await (await post(noModel)).json()) as any).error.param, "model");
  const broken = await fetch(`${up.url}/audio/translations`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=x" }, body: "not a form" });
  assert.equal(broken.status, 400);
});

test("speech: chunked binary audio, its content type per format, the bytes speechBytes() predicts", async () => {
  const mp3 = await sdk.audio.speech.create({ model: "tts-1", voice: "alloy", input: "three little words" });
  assert.equal(mp3.headers.get("content-type"), "audio/mpeg");
  const bytes = Buffer.from(await mp3.arrayBuffer());
  assert.equal(bytes.length, 10 + 3 * 4096);
  assert.deepEqual(bytes, speechBytes("three little words"));
  assert.equal(bytes.subarray(0, 3).toString("latin1"), "ID3");
  const wav = await sdk.audio.speech.create({ model: "tts-1", voice: "alloy", input: "hi", response_format: "wav" });
  assert.equal(wav.headers.get("content-type"), "audio/wav");
  assert.deepEqual(Buffer.from(await wav.arrayBuffer()), speechBytes("hi", "wav"));
  assert.notDeepEqual(speechBytes("hi", "opus"), speechBytes("ho", "opus"));

  // On the wire: no content-length, chunked, in more than one piece.
  const pieces = await new Promise<{ headers: Record<string, unknown>; count: number }>((resolve, reject) => {
    const req = request(`${up.url}/audio/speech`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
      let count = 0;
      res.on("data", () => count++).on("end", () => resolve({ headers: res.headers, count })).on("error", reject);
    });
    req.end(JSON.stringify({ model: "tts-1", voice: "alloy", input: "one two three four", response_format: "opus" }));
  });
  assert.equal(pieces.headers["content-length"], undefined);
  assert.equal(pieces.headers["transfer-encoding"], "chunked");
  assert.equal(pieces.headers["content-type"], "audio/ogg");
  assert.ok(pieces.count > 1, `${pieces.count} pieces`);

  const noVoice = await fetch(`${up.url}/audio/speech`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "tts-1", input: "x" }) });
  assert.equal(noVoice.status, 400);
  assert.equal(((await noVoice.json()) as any).error.param, "voice");
});
