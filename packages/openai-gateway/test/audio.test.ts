/**
 * The audio API through the gateway, with the official openai SDK uploading real files: a
 * transcription and a translation (multipart, the model a form field, rewritten per target),
 * streamed transcripts, speech downloaded as it streams. And the upload path's promises, measured on
 * the gateway's process: a 20 MB file goes through byte for byte; a 100 MB one makes the gateway's
 * memory grow by less than half the file (what grows is garbage the collector has not yet taken,
 * and it levels off: held whole, the file alone would be all of it); an upload over
 * server.uploadLimitBytes (the 25 MB default) gets 413 before the client has sent it all.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { after, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { speechBytes, startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";
import OpenAI, { toFile } from "openai";

const T = { timeout: 60_000 };
const KEY = "gw-audio-key-0123456789";
const UPSTREAM_KEY = "sk-audio-upstream-0123456789";
const LIMIT = 25 * 1024 * 1024;
const MiB = 1024 * 1024;
let up: FakeUpstream;
let gw: GatewayProcess;
/** The default upload limit. */
let strict: GatewayProcess;
let sdk: OpenAI;

before(async () => {
  up = await startFakeUpstream({ apiKey: UPSTREAM_KEY });
  gw = await startGateway({
    env: { UPSTREAM_KEY, KEY },
    config: {
      providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
      models: { ears: "fake/whisper-1", voice: "fake/gpt-4o-mini-tts" },
      passthrough: "fake",
      clients: [{ name: "app", keyEnv: "KEY" }],
      server: { uploadLimitBytes: 128 * MiB },
    },
  });
  strict = await startGateway({
    env: { UPSTREAM_KEY, KEY },
    config: { providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } }, passthrough: "fake", models: { ears: "fake/whisper-1" }, clients: [{ name: "app", keyEnv: "KEY" }] },
  });
  sdk = new OpenAI({ apiKey: KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 30_000 });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await strict?.stop();
  await up?.close();
});

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const audio = (bytes: number) => randomBytes(bytes);

describe("transcriptions and translations", () => {
  test("a file upload: the alias rewritten in the form, every other field and the file's bytes as sent", T, async () => {
    const wav = audio(300_000);
    const result = await sdk.audio.transcriptions.create({ file: await toFile(wav, "meeting.wav", { type: "audio/wav" }), model: "ears", language: "en", prompt: "a meeting" });
    assert.equal(result.text, `transcript of meeting.wav: ${wav.length} bytes, sha256 ${sha256(wav).slice(0, 12)}`);
    const [sent] = up.requests;
    assert.equal(sent!.path, "/v1/audio/transcriptions");
    assert.equal(sent!.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.deepEqual(sent!.form?.fields, { model: "whisper-1", language: "en", prompt: "a meeting" });
    assert.deepEqual(sent!.form?.files.map((f) => [f.field, f.name, f.type, f.size, f.sha256]), [["file", "meeting.wav", "audio/wav", wav.length, sha256(wav)]]);
    // Counted per key from the usage the upstream reported.
    const res = await fetch(`${gw.origin}/usage?group_by=model`, { headers: { authorization: `Bearer ${KEY}` } });
    const row = ((await res.json()) as { data: { model: string; prompt_tokens: number }[] }).data.find((r) => r.model === "ears");
    assert.ok(row && row.prompt_tokens > 0, JSON.stringify(row));
  });

  test("response_format text comes back as text; a translation too", T, async () => {
    const text = await sdk.audio.transcriptions.create({ file: await toFile(audio(1000), "a.mp3"), model: "ears", response_format: "text" });
    assert.match(String(text), /^transcript of a\.mp3: 1000 bytes/);
    const translated = await sdk.audio.translations.create({ file: await toFile(audio(2000), "b.mp3"), model: "ears" });
    assert.match(translated.text, /b\.mp3: 2000 bytes/);
    assert.equal(up.requests.at(-1)!.path, "/v1/audio/translations");
  });

  test("stream=true: the transcript arrives as transcript.text.delta events, then done", T, async () => {
    const stream = await sdk.audio.transcriptions.create({ file: await toFile(audio(5000), "c.wav"), model: "ears", stream: true });
    const deltas: string[] = [];
    let done = "";
    for await (const event of stream) {
      if (event.type === "transcript.text.delta") deltas.push(event.delta);
      if (event.type === "transcript.text.done") done = event.text;
    }
    assert.ok(deltas.length > 1);
    assert.equal(deltas.join(""), done);
    assert.match(done, /^transcript of c\.wav: 5000 bytes/);
  });

  test("bad forms: no model, no file, not multipart: 400 naming the field, nothing sent upstream", T, async () => {
    const form = (parts: Record<string, string | Blob>) => {
      const f = new FormData();
      for (const [k, v] of Object.entries(parts)) f.append(k, v);
      return fetch(`${gw.baseURL}/audio/transcriptions`, { method: "POST", headers: { authorization: `Bearer ${KEY}` }, body: f });
    };
    const noModel = await form({ file: new Blob([audio(10)]) });
    assert.equal(noModel.status, 400);
    assert.equal(((await noModel.json()) as { error: { param: string } }).error.param, "model");
    const noFile = await form({ model: "ears" });
    assert.equal(((await noFile.json()) as { error: { param: string } }).error.param, "file");
    const json = await fetch(`${gw.baseURL}/audio/transcriptions`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: "{}" });
    assert.equal(json.status, 400);
    assert.equal(up.requests.length, 0);
  });
});

describe("speech", () => {
  test("the audio streams back byte for byte, with its content type", T, async () => {
    const response = await sdk.audio.speech.create({ model: "voice", voice: "alloy", input: "hello there, how are you" });
    assert.equal(response.headers.get("content-type"), "audio/mpeg");
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.ok(bytes.equals(speechBytes("hello there, how are you", "mp3")), `${bytes.length} bytes`);
    assert.equal(up.requests[0]!.body.model, "gpt-4o-mini-tts");
  });

  test("a bad request is the upstream's 400 or the gateway's, in OpenAI's shape", T, async () => {
    await assert.rejects(sdk.audio.speech.create({ model: "voice", input: "no voice" } as never), (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === "voice");
  });
});

/** Peak resident memory of a process while `work` runs, sampled every 10 ms, over its resident memory before. */
async function rssGrowth(pid: number, work: () => Promise<void>): Promise<number> {
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
  const base = rss();
  let peak = base;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, rss());
      await sleep(10);
    }
  })();
  try {
    await work();
  } finally {
    running = false;
    await sampler;
  }
  return peak - base;
}

/**
 * A raw upload of a `total`-byte file in 64 KiB writes; resolves with the response, what was written
 * before it came, and the file's sha256. With `stallAfter`, the client stops sending after that many
 * bytes and waits: an answer that comes then came before the gateway could have read the whole body.
 */
function upload(to: GatewayProcess, total: number, opts: { declareLength: boolean; stallAfter?: number }): Promise<{ status: number; body: string; written: number; sha256: string }> {
  const boundary = "----audio-test-boundary";
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\nears\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.wav"\r\nContent-Type: audio/wav\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const headers: Record<string, string | number> = { authorization: `Bearer ${KEY}`, "content-type": `multipart/form-data; boundary=${boundary}` };
  if (opts.declareLength) headers["content-length"] = head.length + total + tail.length;
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    let onAnswer = () => {};
    const answeredNow = new Promise<void>((r) => (onAnswer = r));
    const hash = createHash("sha256");
    const req = httpRequest(`${to.baseURL}/audio/transcriptions`, { method: "POST", headers }, (res) => {
      answered = true;
      onAnswer();
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => {
        resolve({ status: res.statusCode!, body, written, sha256: hash.digest("hex") });
        req.destroy();
      });
    });
    req.on("error", (err) => (answered ? undefined : reject(err)));
    const chunk = randomBytes(64 * 1024);
    (async () => {
      req.write(head);
      while (written < total && !answered) {
        if (opts.stallAfter !== undefined && written >= opts.stallAfter) {
          await answeredNow;
          break;
        }
        const piece = chunk.subarray(0, Math.min(chunk.length, total - written));
        written += piece.length;
        hash.update(piece);
        if (!req.write(piece)) await new Promise((r) => req.once("drain", r));
      }
      if (!answered) req.end(tail);
    })().catch(reject);
  });
}

describe("uploads", () => {
  test("a 20 MB upload goes through whole, byte for byte", T, async () => {
    const size = 20 * MiB;
    const result = await upload(gw, size, { declareLength: false });
    assert.equal(result.status, 200, result.body);
    assert.match(result.body, new RegExp(`big\\.wav: ${size} bytes, sha256 ${result.sha256.slice(0, 12)}`));
    assert.equal(up.requests.at(-1)!.form?.files[0]?.sha256, result.sha256);
  });

  test("a 100 MB upload: the gateway's memory grows by less than half of it (spooled, not held)", T, async (t) => {
    const size = 100 * MiB;
    let result: { status: number; body: string } | undefined;
    const growth = await rssGrowth(gw.proc.pid!, async () => {
      result = await upload(gw, size, { declareLength: true });
    });
    assert.equal(result!.status, 200, result!.body);
    assert.equal(up.requests.at(-1)!.form?.files[0]?.size, size);
    t.diagnostic(`gateway RSS grew by ${(growth / MiB).toFixed(1)} MiB during the upload`);
    assert.ok(growth < size / 2, `the gateway grew by ${(growth / MiB).toFixed(1)} MiB during a ${size / MiB} MiB upload`);
  });

  test("over the default limit (25 MB): 413 while the body is still arriving, by Content-Length or by count; nothing sent upstream", T, async () => {
    const size = 3 * LIMIT;
    // Declared too large: answered after the first MiB, the rest never sent.
    const declared = await upload(strict, size, { declareLength: true, stallAfter: MiB });
    assert.equal(declared.status, 413);
    assert.equal((JSON.parse(declared.body) as { error: { code: string } }).error.code, "request_too_large");
    // Not declared (chunked): answered once the limit is passed, while the client holds the rest back.
    const counted = await upload(strict, size, { declareLength: false, stallAfter: LIMIT + 2 * MiB });
    assert.equal(counted.status, 413);
    assert.equal((JSON.parse(counted.body) as { error: { code: string } }).error.code, "request_too_large");
    assert.ok(counted.written < size);
    assert.equal(up.requests.length, 0);
  });
});
