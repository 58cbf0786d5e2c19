/**
 * Unit tests of the pieces with the most cases: the SSE usage tap, the retry delay rule, config
 * loading (environment and file) and client-key authentication. They import the source directly.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { ANONYMOUS, createAuthenticator } from "../src/auth/client-keys.ts";
import { DEFAULT_RETRY, DEFAULT_TIMEOUTS, DEMO_MODEL } from "../src/config/defaults.ts";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError, type ClientKey, type RetrySettings } from "../src/config/types.ts";
import { GatewayError } from "../src/errors.ts";
import { usageOf } from "../src/relay/response-usage.ts";
import { SseUsageTap } from "../src/relay/sse-usage-tap.ts";
import { retryDelayMs } from "../src/upstream/retry-policy.ts";

// --- SseUsageTap -------------------------------------------------------------------------------

const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const chunkEvent = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
const usageEvent = (eol = "\n") =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage: USAGE })}${eol}${eol}`;
const DONE = "data: [DONE]\n\n";

/** Everything the tap lets through for these upstream chunks, as bytes. */
function relay(tap: SseUsageTap, chunks: (string | Buffer)[]): Buffer {
  const out: Buffer[] = [];
  for (const c of chunks) out.push(Buffer.from(tap.push(Buffer.isBuffer(c) ? c : Buffer.from(c))));
  out.push(Buffer.from(tap.flush()));
  return Buffer.concat(out);
}

/** Splits bytes at the given offsets. */
function splitAt(bytes: Buffer, ...offsets: number[]): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (const o of [...offsets, bytes.length]) {
    parts.push(bytes.subarray(start, o));
    start = o;
  }
  return parts;
}

describe("SseUsageTap", () => {
  test("with no usage in the stream, chunks pass through byte-identical (the same buffers)", () => {
    for (const strip of [false, true]) {
      const tap = new SseUsageTap(strip);
      const chunks = [chunkEvent("Hel"), chunkEvent("lo", "stop"), DONE].map((s) => Buffer.from(s));
      for (const c of chunks) assert.equal(tap.push(c), c, "the upstream's own buffer is forwarded");
      assert.equal(tap.flush(), "");
      assert.equal(tap.usage, undefined);
    }
  });

  test("arbitrary splits, even inside a multi-byte character, come out byte-identical and event-aligned", () => {
    const stream = Buffer.from(chunkEvent("naïve café ☕ ") + chunkEvent("done", "stop") + DONE);
    const coffee = stream.indexOf(Buffer.from("☕"));
    for (const offsets of [[1], [coffee + 1], [coffee + 2, coffee + 3], [10, 60, 61, stream.length - 3]]) {
      const tap = new SseUsageTap(true);
      const outs = splitAt(stream, ...offsets).map((c) => Buffer.from(tap.push(c)));
      const flushed = tap.flush();
      assert.deepEqual(Buffer.concat([...outs, Buffer.from(flushed)]), stream, `split at ${offsets}`);
      for (const o of outs) {
        if (o.length > 0) assert.ok(o.toString("utf8").endsWith("\n\n"), `a partial event was sent: ${JSON.stringify(o.toString())}`);
      }
    }
  });

  test("strip=true drops the `choices: []` usage event and records the usage", () => {
    const tap = new SseUsageTap(true);
    const kept = chunkEvent("Hi", "stop");
    const out = relay(tap, [kept, usageEvent(), DONE]).toString("utf8");
    assert.equal(out, kept + DONE);
    assert.deepEqual(tap.usage, USAGE);
  });

  test("strip=false keeps the usage event untouched and records the usage", () => {
    const tap = new SseUsageTap(false);
    const stream = chunkEvent("Hi", "stop") + usageEvent() + DONE;
    assert.equal(relay(tap, [stream]).toString("utf8"), stream);
    assert.deepEqual(tap.usage, USAGE);
  });

  test("a usage event split across two chunks is handled whole (nothing of it leaks)", () => {
    const before = chunkEvent("Hi", "stop");
    const usage = usageEvent();
    const mid = Math.floor(usage.length / 2);
    const tap = new SseUsageTap(true);
    const first = Buffer.from(tap.push(Buffer.from(before + usage.slice(0, mid)))).toString("utf8");
    assert.equal(first, before, "complete events go out at once, the partial one waits");
    const second = Buffer.from(tap.push(Buffer.from(usage.slice(mid) + DONE))).toString("utf8");
    assert.equal(second, DONE);
    assert.equal(tap.flush(), "");
    assert.deepEqual(tap.usage, USAGE);

    // Without stripping, the split event comes out whole, in one piece.
    const keep = new SseUsageTap(false);
    assert.equal(Buffer.from(keep.push(Buffer.from(usage.slice(0, mid)))).length, 0);
    assert.equal(Buffer.from(keep.push(Buffer.from(usage.slice(mid)))).toString("utf8"), usage);
  });

  test("CRLF event separators: stripping and pass-through both work", () => {
    const crlf = (s: string) => s.replaceAll("\n", "\r\n");
    const kept = crlf(chunkEvent("Hi", "stop"));
    const done = crlf(DONE);
    const tap = new SseUsageTap(true);
    // The usage event split inside its "\r\n\r\n" terminator.
    const usage = usageEvent("\r\n");
    const out = relay(tap, [kept + usage.slice(0, -3), usage.slice(-3) + done]).toString("utf8");
    assert.equal(out, kept + done);
    assert.deepEqual(tap.usage, USAGE);

    const keep = new SseUsageTap(false);
    const stream = kept + usage + done;
    assert.equal(relay(keep, [stream.slice(0, 5), stream.slice(5)]).toString("utf8"), stream);
    assert.deepEqual(keep.usage, USAGE);
  });

  test("usage on a chunk that has choices: the chunk stays, only its usage goes", () => {
    const withUsage = {
      id: "c1",
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { content: "last" }, finish_reason: "stop" }],
      usage: USAGE,
    };
    const tap = new SseUsageTap(true);
    const out = relay(tap, [chunkEvent("first "), `data: ${JSON.stringify(withUsage)}\n\n`, DONE]).toString("utf8");
    const events = out.split("\n\n").filter(Boolean);
    assert.equal(events.length, 3, out);
    assert.equal(events[0] + "\n\n", chunkEvent("first "));
    const { usage, ...rest } = withUsage;
    assert.deepEqual(JSON.parse(events[1]!.replace(/^data: /, "")), rest);
    assert.equal(events[2], "data: [DONE]");
    assert.deepEqual(tap.usage, usage);
  });

  test("a final usage event without its blank line is still handled at flush", () => {
    const tap = new SseUsageTap(true);
    const kept = chunkEvent("Hi", "stop");
    const out = relay(tap, [kept, usageEvent().trimEnd()]).toString("utf8");
    assert.equal(out, kept);
    assert.deepEqual(tap.usage, USAGE);
  });

  test("OpenAI's `\"usage\":null` on every chunk: the same buffers pass through, no usage is recorded", () => {
    const tap = new SseUsageTap(true);
    const withNull = (content: string) =>
      Buffer.from(`data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }], usage: null })}\n\n`);
    for (const c of [withNull("Hel"), withNull("lo"), Buffer.from(DONE)]) assert.equal(tap.push(c), c);
    assert.equal(tap.usage, undefined);
  });

  test("a usage object spaced out (`\"usage\" : {`) is found in a chunk of whole events", () => {
    const spaced = `data: {"id":"c1","choices":[],"usage" : \t{"prompt_tokens":3,"completion_tokens":4}}\n\n`;
    const tap = new SseUsageTap(true);
    assert.equal(relay(tap, [chunkEvent("Hi", "stop") + spaced, DONE]).toString("utf8"), chunkEvent("Hi", "stop") + DONE);
    assert.deepEqual(tap.usage, { prompt_tokens: 3, completion_tokens: 4 });
  });

  test("an event whose data is not JSON passes through even if it mentions usage", () => {
    const odd = 'data: {"usage": {broken\n\n';
    const tap = new SseUsageTap(true);
    assert.equal(relay(tap, [odd, DONE]).toString("utf8"), odd + DONE);
    assert.equal(tap.usage, undefined);
  });
});

// --- retryDelayMs ------------------------------------------------------------------------------

// --- usageOf (token counts of a whole JSON answer) -----------------------------------------------

describe("usageOf", () => {
  const answer = (content: string, extra: object = {}) => ({
    id: "c1",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    ...extra,
  });
  const of = (value: unknown, space?: number) => usageOf(Buffer.from(JSON.stringify(value, null, space)));

  test("reads usage wherever it sits, with nested details, compact or pretty-printed", () => {
    const usage = { prompt_tokens: 5, completion_tokens: 9, total_tokens: 14, prompt_tokens_details: { cached_tokens: 2 } };
    assert.deepEqual(of(answer("hi", { usage })), usage);
    assert.deepEqual(of({ usage, ...answer("hi") }, 2), usage);
  });

  test("a message that talks about usage is not mistaken for it", () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    const tricky = 'the "usage": {"prompt_tokens": 999} field, with braces } and quotes \\" inside';
    assert.deepEqual(of({ usage, ...answer(tricky) }), usage);
    assert.deepEqual(of(answer(tricky, { usage })), usage);
    assert.equal(of(answer(tricky)), undefined);
  });

  test("no usage, null usage, non-UTF-8 neighbours and broken JSON give undefined or the numbers, never a throw", () => {
    assert.equal(of(answer("hi")), undefined);
    assert.equal(of(answer("hi", { usage: null })), undefined);
    assert.deepEqual(of(answer("héllo wörld ✓", { usage: { prompt_tokens: 1 } })), { prompt_tokens: 1 });
    assert.equal(usageOf(Buffer.from('{"usage": {"prompt_tokens": 1')), undefined);
    assert.equal(usageOf(Buffer.from("not json")), undefined);
  });
});

describe("retryDelayMs", () => {
  const settings: RetrySettings = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

  /** The backoff for retry n is in (0.75 * b, b] for b = min(base * 2^(n-1), max). */
  function assertBackoff(n: number, headers: Record<string, string | string[]> | undefined, s = settings): void {
    const b = Math.min(s.baseDelayMs * 2 ** (n - 1), s.maxDelayMs);
    for (let i = 0; i < 50; i++) {
      const d = retryDelayMs(n, headers, s);
      assert.ok(d >= 0.75 * b && d <= b, `retry ${n}: ${d} ms is outside [${0.75 * b}, ${b}] (headers ${JSON.stringify(headers)})`);
    }
  }

  test("retry-after-ms is honoured exactly, and wins over retry-after", () => {
    assert.equal(retryDelayMs(1, { "retry-after-ms": "1234" }, settings), 1234);
    assert.equal(retryDelayMs(3, { "retry-after-ms": "0" }, settings), 0);
    assert.equal(retryDelayMs(1, { "retry-after-ms": "250", "retry-after": "10" }, settings), 250);
    assert.equal(retryDelayMs(1, { "retry-after-ms": ["40", "90"] }, settings), 40);
  });

  test("retry-after in seconds", () => {
    assert.equal(retryDelayMs(1, { "retry-after": "3" }, settings), 3_000);
    assert.equal(retryDelayMs(1, { "retry-after": "1.5" }, settings), 1_500);
    assert.equal(retryDelayMs(1, { "retry-after": "60" }, settings), 60_000, "exactly the cap is still honoured");
    // An empty retry-after-ms falls through to retry-after.
    assert.equal(retryDelayMs(1, { "retry-after-ms": "", "retry-after": "2" }, settings), 2_000);
  });

  test("retry-after as an HTTP date", () => {
    const at = new Date(Date.now() + 10_000).toUTCString(); // whole seconds: up to 1 s earlier
    const d = retryDelayMs(1, { "retry-after": at }, settings);
    assert.ok(d > 8_500 && d <= 10_000, `${d}`);
  });

  test("negative, past, over-the-cap or unreadable values are ignored: backoff instead", () => {
    assertBackoff(1, { "retry-after-ms": "-5" });
    assertBackoff(1, { "retry-after": "-1" });
    assertBackoff(2, { "retry-after": new Date(Date.now() - 60_000).toUTCString() });
    assertBackoff(1, { "retry-after": "61" });
    assertBackoff(2, { "retry-after-ms": "60001" });
    assertBackoff(1, { "retry-after": "soon" });
    assertBackoff(1, {});
    assertBackoff(1, undefined);
    // The cap is the setting, not a constant.
    assertBackoff(1, { "retry-after": "5" }, { ...settings, maxRetryAfterMs: 1_000 });
  });

  test("backoff doubles from baseDelayMs, is capped at maxDelayMs, and has jitter", () => {
    for (let n = 1; n <= 8; n++) assertBackoff(n, undefined);
    // The cap bites from retry 5 on (500 * 2^4 = 8000).
    const late = Array.from({ length: 50 }, () => retryDelayMs(9, undefined, settings));
    assert.ok(Math.max(...late) <= settings.maxDelayMs);
    assert.ok(Math.min(...late) >= 0.75 * settings.maxDelayMs);
    assert.ok(new Set(late).size > 1, "jittered, not constant");
    // Growth: the smallest 3rd-retry delay is above the largest 1st-retry delay.
    const first = Array.from({ length: 50 }, () => retryDelayMs(1, undefined, settings));
    const third = Array.from({ length: 50 }, () => retryDelayMs(3, undefined, settings));
    assert.ok(Math.min(...third) > Math.max(...first));
    // Defaults follow openai-node: 0.5 s doubling to 8 s, Retry-After up to 60 s.
    assert.deepEqual({ ...DEFAULT_RETRY, maxAttempts: 0 }, { maxAttempts: 0, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 });
  });
});

// --- loadConfig --------------------------------------------------------------------------------

const sha256 = (s: string) => createHash("sha256").update(s).digest();
const dir = mkdtempSync(join(tmpdir(), "gw-units-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileCount = 0;
function configFile(text: string, ext = ".yaml"): string {
  const file = join(dir, `config-${++fileCount}${ext}`);
  writeFileSync(file, text);
  return file;
}

function configError(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${err}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

describe("loadConfig from the environment", () => {
  test("nothing set: the offline demo on 127.0.0.1:8080, no clients", () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.demo, true);
    assert.deepEqual([...c.aliases.keys()], [DEMO_MODEL]);
    assert.equal(c.aliases.get(DEMO_MODEL)![0]!.provider.type, "demo");
    assert.equal(c.passthrough, undefined);
    assert.deepEqual(c.clients, []);
    assert.equal(c.host, "127.0.0.1");
    assert.equal(c.port, 8080);
    assert.equal(c.logLevel, "info");
    assert.deepEqual(c.timeouts, DEFAULT_TIMEOUTS);
    assert.deepEqual(c.secrets, []);
    // Blank values count as unset.
    assert.equal(loadConfig({ env: { OPENAI_API_KEY: "  ", OPENAI_BASE_URL: "" } }).demo, true);
  });

  test("OPENAI_API_KEY: every model name passes through to api.openai.com with that key", () => {
    const c = loadConfig({ env: { OPENAI_API_KEY: " sk-test-123 " } });
    assert.equal(c.demo, false);
    assert.equal(c.aliases.size, 0);
    assert.equal(c.passthrough?.type, "openai");
    assert.equal(c.passthrough?.baseUrl, "https://api.openai.com/v1");
    assert.equal(c.passthrough?.apiKey, "sk-test-123");
    assert.deepEqual(c.secrets, ["sk-test-123"]);
    assert.deepEqual(c.providers, [c.passthrough]);
  });

  test("OPENAI_BASE_URL alone: a keyless local server; a trailing slash is dropped; a non-URL is an error", () => {
    const c = loadConfig({ env: { OPENAI_BASE_URL: "http://localhost:11434/v1/" } });
    assert.equal(c.passthrough?.baseUrl, "http://localhost:11434/v1");
    assert.equal(c.passthrough?.apiKey, undefined);
    assert.equal(c.demo, false);
    configError(() => loadConfig({ env: { OPENAI_BASE_URL: "localhost:11434" } }), /OPENAI_BASE_URL/);
    configError(() => loadConfig({ env: { OPENAI_BASE_URL: "ftp://example.com/v1" } }), /OPENAI_BASE_URL/);
  });

  test("GATEWAY_API_KEYS: comma-separated, trimmed, blanks skipped, stored only as hashes", () => {
    const c = loadConfig({ env: { GATEWAY_API_KEYS: " key-one, key-two ,,key-three," } });
    assert.deepEqual(c.clients.map((k) => k.name), ["env-key-1", "env-key-2", "env-key-3"]);
    assert.deepEqual(c.clients.map((k) => k.hash), [sha256("key-one"), sha256("key-two"), sha256("key-three")]);
    for (const k of c.clients) assert.deepEqual(k.models, ["*"]);
    assert.ok(!JSON.stringify(c).includes("key-one"), "the plain key is not kept");
  });

  test("HOST, PORT and LOG_LEVEL; flags win over the environment", () => {
    const c = loadConfig({ env: { HOST: "0.0.0.0", PORT: "9000", LOG_LEVEL: "DEBUG", GATEWAY_API_KEYS: "k" } });
    assert.equal(c.host, "0.0.0.0");
    assert.equal(c.port, 9000);
    assert.equal(c.logLevel, "debug");
    const flags = loadConfig({ host: "127.0.0.2", port: 0, env: { HOST: "0.0.0.0", PORT: "9000" } });
    assert.equal(flags.host, "127.0.0.2");
    assert.equal(flags.port, 0);
  });

  test("bad values name the variable", () => {
    configError(() => loadConfig({ env: { PORT: "abc" } }), /^PORT: 'abc'/);
    configError(() => loadConfig({ env: { PORT: "65536" } }), /PORT/);
    configError(() => loadConfig({ env: { PORT: "80.5" } }), /PORT/);
    configError(() => loadConfig({ env: { LOG_LEVEL: "verbose" } }), /^LOG_LEVEL: 'verbose'/, /debug/);
  });

  test("no client keys: loopback only", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1"]) assert.equal(loadConfig({ host, env: {} }).host, host);
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
      configError(() => loadConfig({ host, env: {} }), /no client keys/, new RegExp(host.replaceAll(".", "\\.")));
    }
    assert.equal(loadConfig({ host: "0.0.0.0", env: { GATEWAY_API_KEYS: "k" } }).host, "0.0.0.0");
  });
});

describe("loadConfig from a file", () => {
  const PROVIDERS = "providers:\n  fake:\n    baseUrl: http://127.0.0.1:9/v1/\n    apiKey: ${FAKE_KEY}\n  or:\n    baseUrl: https://openrouter.ai/api/v1\n";

  test("aliases in string, object and list (fallback) forms", () => {
    const file = configFile(
      PROVIDERS +
        "models:\n" +
        "  fast: fake/gpt-4o-mini\n" +
        "  llama: or/meta-llama/llama-3.1-8b\n" +
        "  big:\n    provider: or\n    model: openai/gpt-4o\n" +
        "  resilient:\n    - or/gpt-4o\n    - { provider: fake, model: gpt-4o }\n",
    );
    const c = loadConfig({ file, env: { FAKE_KEY: "fk-123" } });
    const targets = (alias: string) => c.aliases.get(alias)!.map((t) => `${t.provider.name}|${t.model}`);
    assert.deepEqual([...c.aliases.keys()], ["fast", "llama", "big", "resilient"]);
    assert.deepEqual(targets("fast"), ["fake|gpt-4o-mini"]);
    assert.deepEqual(targets("llama"), ["or|meta-llama/llama-3.1-8b"], "only the first slash splits provider from model");
    assert.deepEqual(targets("big"), ["or|openai/gpt-4o"]);
    assert.deepEqual(targets("resilient"), ["or|gpt-4o", "fake|gpt-4o"]);
    const fake = c.providers.find((p) => p.name === "fake")!;
    assert.equal(fake.baseUrl, "http://127.0.0.1:9/v1");
    assert.equal(fake.apiKey, "fk-123", "${FAKE_KEY} substituted");
    assert.deepEqual(c.secrets, ["fk-123"]);
    assert.equal(c.passthrough, undefined);
    assert.equal(c.demo, false);
  });

  test("JSON works too; server, timeouts and retry override only what they name", () => {
    const file = configFile(
      JSON.stringify({
        providers: { fake: { baseUrl: "http://127.0.0.1:9/v1" } },
        passthrough: "fake",
        server: { port: 7001, bodyLimitBytes: 2048 },
        timeouts: { firstByteMs: 1234 },
        retry: { maxAttempts: 1 },
        clients: [{ name: "hashed", keyHash: `sha256:${sha256("k1").toString("hex")}`, models: ["gpt-*"] }],
      }),
      ".json",
    );
    const c = loadConfig({ file, env: {} });
    assert.equal(c.passthrough?.name, "fake");
    assert.equal(c.port, 7001);
    assert.equal(c.bodyLimitBytes, 2048);
    assert.deepEqual(c.timeouts, { ...DEFAULT_TIMEOUTS, firstByteMs: 1234 });
    assert.deepEqual(c.retry, { ...DEFAULT_RETRY, maxAttempts: 1 });
    assert.deepEqual(c.clients, [{ name: "hashed", hash: sha256("k1"), models: ["gpt-*"] }]);
    // The environment still wins for the port.
    assert.equal(loadConfig({ file, env: { PORT: "7002" } }).port, 7002);
  });

  test("keyEnv clients and GATEWAY_API_KEYS add up; a name used twice is an error", () => {
    const file = configFile(PROVIDERS + "passthrough: fake\nclients:\n  - name: team\n    keyEnv: TEAM_KEY\n    models: [fast]\n");
    const c = loadConfig({ file, env: { FAKE_KEY: "x", TEAM_KEY: "team-secret", GATEWAY_API_KEYS: "env-secret" } });
    assert.deepEqual(c.clients, [
      { name: "team", hash: sha256("team-secret"), models: ["fast"] },
      { name: "env-key-1", hash: sha256("env-secret"), models: ["*"] },
    ]);
    const twice = configFile(PROVIDERS + "passthrough: fake\nclients:\n  - name: env-key-1\n    keyEnv: TEAM_KEY\n");
    configError(() => loadConfig({ file: twice, env: { FAKE_KEY: "x", TEAM_KEY: "t", GATEWAY_API_KEYS: "e" } }), /env-key-1/, /twice/);
  });

  test("errors name the field", () => {
    const env = { FAKE_KEY: "x" };
    const cases: [string, RegExp[]][] = [
      ["providers:\n  fake:\n    baseUrl: not a url\npassthrough: fake\n", [/providers\.fake\.baseUrl/]],
      ["providers:\n  fake:\n    baseUrl: http://h/v1\n    type: openia\npassthrough: fake\n", [/providers\.fake\.type/]],
      [PROVIDERS + "models:\n  fast: nope/gpt-4o\n", [/models\.fast\[0\]\.provider/, /'nope'/, /known: fake, or/]],
      [PROVIDERS + "models:\n  fast:\n    - fake/a\n    - { provider: gone, model: b }\n", [/models\.fast\[1\]\.provider/, /'gone'/]],
      [PROVIDERS + "models:\n  fast: gpt-4o\n", [/models\.fast/, /provider\/model/]],
      [PROVIDERS + "passthrough: nope\n", [/^passthrough: unknown provider 'nope'/]],
      [PROVIDERS, [/^models: /]],
      [PROVIDERS + "passthrough: fake\ncolour: blue\n", [/colour/]],
      [PROVIDERS + "passthrough: fake\nserver:\n  port: 70000\n", [/server\.port/]],
      [PROVIDERS + "passthrough: fake\nretry:\n  maxAttempts: 0\n", [/retry\.maxAttempts/]],
      [PROVIDERS + "passthrough: fake\nclients:\n  - name: a\n    keyHash: abc\n", [/clients\.0\.keyHash/]],
      [PROVIDERS + "passthrough: fake\nclients:\n  - name: a\n", [/clients\.0/, /keyHash or keyEnv/]],
      [PROVIDERS + "passthrough: fake\nclients:\n  - name: a\n    keyEnv: UNSET_TEAM_KEY\n", [/clients\[0\]\.keyEnv/, /UNSET_TEAM_KEY/]],
      ["providers: {}\npassthrough: fake\n", [/providers/, /at least one provider/]],
    ];
    for (const [text, patterns] of cases) configError(() => loadConfig({ file: configFile(text), env }), ...patterns);
  });

  test("a ${VAR} reference names the variable and the field it is in", () => {
    const file = configFile(PROVIDERS + "passthrough: fake\n");
    configError(() => loadConfig({ file, env: {} }), /providers\.fake\.apiKey/, /FAKE_KEY is not set/);
    configError(() => loadConfig({ file, env: { FAKE_KEY: "" } }), /FAKE_KEY/);
    const inUrl = configFile("providers:\n  local:\n    baseUrl: http://${LOCAL_HOST}:11434/v1\npassthrough: local\n");
    assert.equal(loadConfig({ file: inUrl, env: { LOCAL_HOST: "gpu-box" } }).passthrough?.baseUrl, "http://gpu-box:11434/v1");
  });

  test("an unreadable or unparseable file says which and why", () => {
    configError(() => loadConfig({ file: join(dir, "missing.yaml"), env: {} }), /cannot read config file/, /ENOENT/);
    configError(() => loadConfig({ file: configFile("a: [1,\n", ".yml"), env: {} }), /not valid YAML/);
    configError(() => loadConfig({ file: configFile("{", ".json"), env: {} }), /not valid JSON/);
  });
});

// --- createAuthenticator -----------------------------------------------------------------------

describe("createAuthenticator", () => {
  const alice: ClientKey = { name: "alice", hash: sha256("alice-key"), models: ["*"] };
  const bob: ClientKey = { name: "bob", hash: sha256("bob-key"), models: ["gpt-4o"] };
  const authenticate = createAuthenticator([alice, bob]);

  function rejects(authorization: string | undefined, message: RegExp): void {
    assert.throws(
      () => authenticate(authorization),
      (err: unknown) => {
        assert.ok(err instanceof GatewayError);
        assert.equal(err.status, 401);
        assert.equal(err.code, "invalid_api_key");
        assert.match(err.message, message);
        assert.deepEqual(Object.keys(err.toBody().error).sort(), ["code", "message", "param", "type"]);
        return true;
      },
    );
  }

  test("the right key returns its client", () => {
    assert.equal(authenticate("Bearer alice-key"), alice);
    assert.equal(authenticate("Bearer bob-key"), bob);
    assert.equal(authenticate("bearer bob-key"), bob, "the scheme is case-insensitive");
    assert.equal(authenticate("Bearer   alice-key  "), alice, "surrounding spaces are ignored");
  });

  test("a wrong key is 401 'Incorrect API key', and does not echo it", () => {
    rejects("Bearer carol-key", /Incorrect API key/);
    rejects("Bearer alice-key-", /Incorrect API key/);
    rejects(`Bearer ${alice.hash.toString("hex")}`, /Incorrect API key/);
    assert.throws(() => authenticate("Bearer carol-key"), (err: Error) => !err.message.includes("carol-key"));
  });

  test("no key, or a key without 'Bearer ', is 401 'Missing API key'", () => {
    rejects(undefined, /Missing API key/);
    rejects("", /Missing API key/);
    rejects("alice-key", /Missing API key.*Bearer/);
    rejects("Basic YWxpY2U6a2V5", /Missing API key/);
    rejects("Bearer ", /Missing API key/);
  });

  test("with no clients configured, every request is the anonymous client", () => {
    const open = createAuthenticator([]);
    for (const header of [undefined, "", "Bearer anything", "garbage"]) assert.deepEqual(open(header), ANONYMOUS);
    assert.equal(ANONYMOUS.name, "anonymous");
    assert.deepEqual(ANONYMOUS.models, ["*"]);
  });
});
