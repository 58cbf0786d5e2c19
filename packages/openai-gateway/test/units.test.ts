/**
 * Unit tests of the pieces with the most cases: the SSE usage tap and the upstream's events
 * (scrubbed, error events rewritten, committed on the first event), the usage of a whole answer,
 * config loading (environment and file) and client-key authentication. They import the source
 * directly. The retry rule and the SSE splitter are tested in @mcpgw/openai-protocol.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { PassThrough } from "node:stream";
import { createScrubber, OPENAI_RETRY, SseSplitter } from "@mcpgw/openai-protocol";
import { DEFAULT_RETRY, DEFAULT_TIMEOUTS, DEMO_MODEL } from "../src/config/defaults.ts";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError, type ClientKey, type GatewayConfig } from "../src/config/types.ts";
import { GatewayError } from "../src/errors.ts";
import { jsonLength } from "../src/limits/admission.ts";
import { ANONYMOUS, createAuthenticator } from "../src/http/plugins/client-auth.ts";
import { usageOf } from "../src/relay/response-usage.ts";
import { UpstreamEvents, type EventBatch } from "../src/upstream/stream-events.ts";
import { UsageTap } from "../src/relay/usage-tap.ts";
import { toolResultText } from "../src/chat/tool-results.ts";
import { parseToolsCommand, serverNameFor } from "../src/tools-command.ts";
import type { ToolCallResult } from "../src/mcp/clients/types.ts";

// --- UsageTap -------------------------------------------------------------------------------

const USAGE = { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 };
const chunkEvent = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
const usageEvent = (eol = "\n") =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [], usage: USAGE })}${eol}${eol}`;
const DONE = "data: [DONE]\n\n";

/** Each upstream read as the relay sees it: a batch of whole events, with its bytes when it was exactly them. */
function batches(chunks: (string | Buffer)[]): EventBatch[] {
  const splitter = new SseSplitter();
  const out: EventBatch[] = chunks.map((c) => {
    const bytes = Buffer.isBuffer(c) ? c : Buffer.from(c);
    const { events, whole } = splitter.push(bytes);
    return { events, bytes: whole ? bytes : undefined };
  });
  const rest = splitter.flush();
  if (rest) out.push({ events: [rest], bytes: undefined });
  return out;
}

/** Everything the tap lets through for these upstream chunks, as bytes. */
function relay(tap: UsageTap, chunks: (string | Buffer)[]): Buffer {
  return Buffer.concat(batches(chunks).map((b) => Buffer.from(tap.apply(b))));
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

describe("UsageTap", () => {
  test("with no usage in the stream, chunks pass through byte-identical (the same buffers)", () => {
    for (const strip of [false, true]) {
      const tap = new UsageTap(strip);
      const chunks = [chunkEvent("Hel"), chunkEvent("lo", "stop"), DONE].map((s) => Buffer.from(s));
      for (const [i, b] of batches(chunks).entries()) assert.equal(tap.apply(b), chunks[i], "the upstream's own buffer is forwarded");
      assert.equal(tap.usage, undefined);
    }
  });

  test("arbitrary splits, even inside a multi-byte character, come out byte-identical and event-aligned", () => {
    const stream = Buffer.from(chunkEvent("naïve café ☕ ") + chunkEvent("done", "stop") + DONE);
    const coffee = stream.indexOf(Buffer.from("☕"));
    for (const offsets of [[1], [coffee + 1], [coffee + 2, coffee + 3], [10, 60, 61, stream.length - 3]]) {
      const tap = new UsageTap(true);
      const outs = batches(splitAt(stream, ...offsets)).map((b) => Buffer.from(tap.apply(b)));
      assert.deepEqual(Buffer.concat(outs), stream, `split at ${offsets}`);
      for (const o of outs) {
        if (o.length > 0) assert.ok(o.toString("utf8").endsWith("\n\n"), `a partial event was sent: ${JSON.stringify(o.toString())}`);
      }
    }
  });

  test("strip=true drops the `choices: []` usage event and records the usage", () => {
    const tap = new UsageTap(true);
    const kept = chunkEvent("Hi", "stop");
    const out = relay(tap, [kept, usageEvent(), DONE]).toString("utf8");
    assert.equal(out, kept + DONE);
    assert.deepEqual(tap.usage, USAGE);
  });

  test("strip=false keeps the usage event untouched and records the usage", () => {
    const tap = new UsageTap(false);
    const stream = chunkEvent("Hi", "stop") + usageEvent() + DONE;
    assert.equal(relay(tap, [stream]).toString("utf8"), stream);
    assert.deepEqual(tap.usage, USAGE);
  });

  test("a usage event split across two chunks is handled whole (nothing of it leaks)", () => {
    const before = chunkEvent("Hi", "stop");
    const usage = usageEvent();
    const mid = Math.floor(usage.length / 2);
    const tap = new UsageTap(true);
    const [first, second] = batches([before + usage.slice(0, mid), usage.slice(mid) + DONE]);
    assert.equal(Buffer.from(tap.apply(first!)).toString("utf8"), before, "complete events go out at once, the partial one waits");
    assert.equal(Buffer.from(tap.apply(second!)).toString("utf8"), DONE);
    assert.deepEqual(tap.usage, USAGE);

    // Without stripping, the split event comes out whole, in one piece.
    const keep = new UsageTap(false);
    const [a, b] = batches([usage.slice(0, mid), usage.slice(mid)]);
    assert.equal(Buffer.from(keep.apply(a!)).length, 0);
    assert.equal(Buffer.from(keep.apply(b!)).toString("utf8"), usage);
  });

  test("CRLF event separators: stripping and pass-through both work", () => {
    const crlf = (s: string) => s.replaceAll("\n", "\r\n");
    const kept = crlf(chunkEvent("Hi", "stop"));
    const done = crlf(DONE);
    const tap = new UsageTap(true);
    // The usage event split inside its "\r\n\r\n" terminator.
    const usage = usageEvent("\r\n");
    const out = relay(tap, [kept + usage.slice(0, -3), usage.slice(-3) + done]).toString("utf8");
    assert.equal(out, kept + done);
    assert.deepEqual(tap.usage, USAGE);

    const keep = new UsageTap(false);
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
    const tap = new UsageTap(true);
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
    const tap = new UsageTap(true);
    const kept = chunkEvent("Hi", "stop");
    const out = relay(tap, [kept, usageEvent().trimEnd()]).toString("utf8");
    assert.equal(out, kept);
    assert.deepEqual(tap.usage, USAGE);
  });

  test("OpenAI's `\"usage\":null` on every chunk: the same buffers pass through, no usage is recorded", () => {
    const tap = new UsageTap(true);
    const withNull = (content: string) =>
      Buffer.from(`data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content } }], usage: null })}\n\n`);
    const chunks = [withNull("Hel"), withNull("lo"), Buffer.from(DONE)];
    for (const [i, b] of batches(chunks).entries()) assert.equal(tap.apply(b), chunks[i]);
    assert.equal(tap.usage, undefined);
  });

  test("a usage object spaced out (`\"usage\" : {`) is found in a chunk of whole events", () => {
    const spaced = `data: {"id":"c1","choices":[],"usage" : \t{"prompt_tokens":3,"completion_tokens":4}}\n\n`;
    const tap = new UsageTap(true);
    assert.equal(relay(tap, [chunkEvent("Hi", "stop") + spaced, DONE]).toString("utf8"), chunkEvent("Hi", "stop") + DONE);
    assert.deepEqual(tap.usage, { prompt_tokens: 3, completion_tokens: 4 });
  });

  test("an event whose data is not JSON passes through even if it mentions usage", () => {
    const odd = 'data: {"usage": {broken\n\n';
    const tap = new UsageTap(true);
    assert.equal(relay(tap, [odd, DONE]).toString("utf8"), odd + DONE);
    assert.equal(tap.usage, undefined);
  });
});

// --- UpstreamEvents (an upstream stream, read) --------------------------------------------------

describe("UpstreamEvents", () => {
  const KEY = "sk-units-SECRET-0123456789abcdef";
  const scrub = createScrubber([KEY]);

  /** Feeds chunks one by one; returns the first events and then everything pumped after them, as batches. */
  async function read(chunks: string[], opts: { end?: boolean } = {}) {
    const body = new PassThrough();
    const events = new UpstreamEvents(body, scrub, "p");
    const first = events.first();
    for (const c of chunks) {
      body.write(c);
      await new Promise((r) => setImmediate(r));
    }
    if (opts.end !== false) body.end();
    const head = await first;
    const rest: EventBatch[] = [];
    const client = { watch: () => () => {} };
    await events.pump((b) => (rest.push(b), true), client);
    return { head, rest };
  }

  test("commits on the first event that carries data: comments before it wait with it", async () => {
    const { head, rest } = await read([": OPENROUTER PROCESSING\n\n", chunkEvent("Hi"), DONE]);
    assert.deepEqual(head.batch.events, [": OPENROUTER PROCESSING\n\n", chunkEvent("Hi")]);
    assert.equal(head.batch.bytes, undefined, "two reads cannot go out as one read's bytes");
    assert.equal(head.error, undefined);
    assert.deepEqual(rest.map((b) => b.events.join("")), [DONE]);
  });

  test("an error event first: the stream's error, status from a numeric code, every field scrubbed", async () => {
    const error = { message: `overloaded ${KEY}`, type: `t ${KEY}`, param: null, code: 503 };
    const { head } = await read([`data: ${JSON.stringify({ error })}\n\n`]);
    assert.equal(head.error?.status, 503);
    assert.equal(head.error?.message, "overloaded [redacted]");
    assert.equal(head.error?.type, "t [redacted]");
    assert.ok(!JSON.stringify(head.batch.events).includes(KEY));
  });

  test("mid-stream: the key is scrubbed from data events and error events; clean reads keep their own bytes", async () => {
    const clean = chunkEvent("fine");
    const { head, rest } = await read([clean, chunkEvent(`leaked ${KEY}`), `data: {"error":{"message":"bad ${KEY}","code":"x"}}\n\n`]);
    assert.equal(head.batch.bytes?.toString(), clean);
    const text = rest.map((b) => b.events.join("")).join("");
    assert.ok(!text.includes(KEY), text);
    assert.match(text, /leaked \[redacted\]/);
    assert.match(text, /"message":"bad \[redacted\]"/);
    assert.match(text, /"code":"x"/);
  });

  test("a body that ends before any event, and one that is a whole JSON answer", async () => {
    const empty = await read([]);
    assert.equal(empty.head.ended, true);
    assert.deepEqual(empty.head.batch.events, []);
    const json = await read(['{"id":"c1","object":"chat.completion"}']);
    assert.equal(json.head.ended, true);
    assert.deepEqual(json.rest.map((b) => b.events.join("")), ['{"id":"c1","object":"chat.completion"}']);
  });

  test("a body that fails before its first event rejects first(): the attempt can be retried", async () => {
    const body = new PassThrough();
    const events = new UpstreamEvents(body, scrub, "p");
    const first = events.first();
    body.write(": just a comment\n\n");
    body.destroy(Object.assign(new Error("socket hang up"), { code: "UND_ERR_SOCKET" }));
    await assert.rejects(first, /socket hang up/);
  });
});

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

const providerOf = (c: GatewayConfig, name: string | undefined) => {
  const p = c.providers.find((x) => x.name === name);
  assert.ok(p, `no provider '${name}'`);
  return p;
};

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
    assert.equal(providerOf(c, c.aliases.get(DEMO_MODEL)![0]!.provider).type, "demo");
    assert.equal(c.passthrough, undefined);
    assert.deepEqual(c.clients, []);
    assert.equal(c.server.host, "127.0.0.1");
    assert.equal(c.server.port, 8080);
    assert.equal(c.logLevel, "info");
    assert.deepEqual(c.timeouts, DEFAULT_TIMEOUTS);
    assert.deepEqual(c.retry, DEFAULT_RETRY);
    assert.deepEqual({ ...DEFAULT_RETRY }, OPENAI_RETRY, "the gateway's retry defaults are openai-node's");
    assert.equal(c.server.tls, undefined);
    // Blank values count as unset.
    assert.equal(loadConfig({ env: { OPENAI_API_KEY: "  ", OPENAI_BASE_URL: "" } }).demo, true);
  });

  test("OPENAI_API_KEY: every model name passes through to api.openai.com with that key", () => {
    const c = loadConfig({ env: { OPENAI_API_KEY: " sk-test-123 " } });
    assert.equal(c.demo, false);
    assert.equal(c.aliases.size, 0);
    const up = providerOf(c, c.passthrough);
    assert.equal(up.type, "openai");
    assert.equal(up.baseUrl, "https://api.openai.com/v1");
    assert.equal(up.apiKey, "sk-test-123");
    assert.equal(up.streamUsage, true);
    assert.deepEqual(c.providers, [up]);
  });

  test("OPENAI_BASE_URL alone: a keyless local server; a trailing slash is dropped; a non-URL is an error", () => {
    const c = loadConfig({ env: { OPENAI_BASE_URL: "http://localhost:11434/v1/" } });
    assert.equal(providerOf(c, c.passthrough).baseUrl, "http://localhost:11434/v1");
    assert.equal(providerOf(c, c.passthrough).apiKey, undefined);
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
    assert.equal(c.server.host, "0.0.0.0");
    assert.equal(c.server.port, 9000);
    assert.equal(c.logLevel, "debug");
    const flags = loadConfig({ host: "127.0.0.2", port: 0, env: { HOST: "0.0.0.0", PORT: "9000" } });
    assert.equal(flags.server.host, "127.0.0.2");
    assert.equal(flags.server.port, 0);
  });

  test("bad values name the variable", () => {
    configError(() => loadConfig({ env: { PORT: "abc" } }), /^PORT: 'abc'/);
    configError(() => loadConfig({ env: { PORT: "65536" } }), /PORT/);
    configError(() => loadConfig({ env: { PORT: "80.5" } }), /PORT/);
    configError(() => loadConfig({ env: { LOG_LEVEL: "verbose" } }), /^LOG_LEVEL: 'verbose'/, /debug/);
  });

  test("no client keys: loopback only", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1"]) assert.equal(loadConfig({ host, env: {} }).server.host, host);
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.com"]) {
      configError(() => loadConfig({ host, env: {} }), /no client keys/, new RegExp(host.replaceAll(".", "\\.")));
    }
    assert.equal(loadConfig({ host: "0.0.0.0", env: { GATEWAY_API_KEYS: "k" } }).server.host, "0.0.0.0");
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
    const targets = (alias: string) => c.aliases.get(alias)!.map((t) => `${t.provider}|${t.model}`);
    assert.deepEqual([...c.aliases.keys()], ["fast", "llama", "big", "resilient"]);
    assert.deepEqual(targets("fast"), ["fake|gpt-4o-mini"]);
    assert.deepEqual(targets("llama"), ["or|meta-llama/llama-3.1-8b"], "only the first slash splits provider from model");
    assert.deepEqual(targets("big"), ["or|openai/gpt-4o"]);
    assert.deepEqual(targets("resilient"), ["or|gpt-4o", "fake|gpt-4o"]);
    const fake = c.providers.find((p) => p.name === "fake")!;
    assert.equal(fake.baseUrl, "http://127.0.0.1:9/v1");
    assert.equal(fake.apiKey, "fk-123", "${FAKE_KEY} substituted");
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
    assert.equal(c.passthrough, "fake");
    assert.equal(c.server.port, 7001);
    assert.equal(c.server.bodyLimitBytes, 2048);
    assert.equal(c.server.responseLimitBytes, 32 * 1024 * 1024);
    assert.equal(c.server.bodyTimeoutMs, 60_000);
    assert.deepEqual(c.timeouts, { ...DEFAULT_TIMEOUTS, firstByteMs: 1234 });
    assert.deepEqual(c.retry, { ...DEFAULT_RETRY, maxAttempts: 1 });
    assert.deepEqual(c.clients, [{ name: "hashed", hash: sha256("k1"), models: ["gpt-*"], tools: [], admin: false }], "a file's key may call no MCP tool unless granted");
    // The environment still wins for the port.
    assert.equal(loadConfig({ file, env: { PORT: "7002" } }).server.port, 7002);
  });

  test("keyEnv clients and GATEWAY_API_KEYS add up; a name used twice is an error", () => {
    const file = configFile(PROVIDERS + "passthrough: fake\nclients:\n  - name: team\n    keyEnv: TEAM_KEY\n    models: [fast]\n    tools: [everything/echo, memory]\n");
    const c = loadConfig({ file, env: { FAKE_KEY: "x", TEAM_KEY: "team-secret", GATEWAY_API_KEYS: "env-secret" } });
    assert.deepEqual(c.clients, [
      { name: "team", hash: sha256("team-secret"), models: ["fast"], tools: ["everything/echo", "memory"], admin: false },
      { name: "env-key-1", hash: sha256("env-secret"), models: ["*"], tools: ["*"], admin: false },
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
      [PROVIDERS + "passthrough: fake\nserver:\n  jsonDepthLimit: 1\n", [/server\.jsonDepthLimit/]],
      [PROVIDERS + "passthrough: fake\nserver:\n  tls:\n    cert: /nonexistent/cert.pem\n    key: /nonexistent/key.pem\n", [/server\.tls\.cert/, /ENOENT/]],
      ["providers:\n  fake:\n    baseUrl: http://h/v1\n    headers:\n      transfer-encoding: chunked\npassthrough: fake\n", [/providers\.fake\.headers\.transfer-encoding/]],
    ];
    for (const [text, patterns] of cases) configError(() => loadConfig({ file: configFile(text), env }), ...patterns);
  });

  test("a ${VAR} reference names the variable and the field it is in", () => {
    const file = configFile(PROVIDERS + "passthrough: fake\n");
    configError(() => loadConfig({ file, env: {} }), /providers\.fake\.apiKey/, /FAKE_KEY is not set/);
    configError(() => loadConfig({ file, env: { FAKE_KEY: "" } }), /FAKE_KEY/);
    const inUrl = configFile("providers:\n  local:\n    baseUrl: http://${LOCAL_HOST}:11434/v1\npassthrough: local\n");
    const local = loadConfig({ file: inUrl, env: { LOCAL_HOST: "gpu-box" } });
    assert.equal(providerOf(local, local.passthrough).baseUrl, "http://gpu-box:11434/v1");
  });

  test("an unreadable or unparseable file says which and why", () => {
    configError(() => loadConfig({ file: join(dir, "missing.yaml"), env: {} }), /cannot read config file/, /ENOENT/);
    configError(() => loadConfig({ file: configFile("a: [1,\n", ".yml"), env: {} }), /not valid YAML/);
    configError(() => loadConfig({ file: configFile("{", ".json"), env: {} }), /not valid JSON/);
  });
});

// --- createAuthenticator -----------------------------------------------------------------------

describe("createAuthenticator", () => {
  const alice: ClientKey = { name: "alice", hash: sha256("alice-key"), models: ["*"], tools: [], admin: false };
  const bob: ClientKey = { name: "bob", hash: sha256("bob-key"), models: ["gpt-4o"], tools: ["everything/echo"], admin: false };
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

// --- toolResultText (what a model reads of an MCP tool's result) --------------------------------

describe("toolResultText", () => {
  const scrub = createScrubber(["sk-tool-result-secret-0123456789"]);
  const of = (result: Partial<ToolCallResult>, limit = 64 * 1024) => toolResultText({ content: [], structuredContent: undefined, isError: false, ...result }, limit, scrub);

  test("text as text, structuredContent as JSON (once, even when the text repeats it)", () => {
    assert.equal(of({ content: [{ type: "text", text: "hello" }, { type: "text", text: "world" }] }), "hello\nworld");
    assert.equal(of({ content: [{ type: "text", text: '{"a":1}' }], structuredContent: { a: 1 } }), '{"a":1}');
    assert.equal(of({ content: [{ type: "text", text: "sunny" }], structuredContent: { temp: 21 } }), 'sunny\n{"temp":21}');
  });

  test("images, audio and resources are described, never their bytes", () => {
    const data = Buffer.alloc(3000, 1).toString("base64");
    const text = of({
      content: [
        { type: "image", data, mimeType: "image/png" },
        { type: "resource_link", uri: "file:///a.txt", name: "a" },
        { type: "resource", resource: { uri: "mem://note", text: "the note" } },
        { type: "resource", resource: { uri: "mem://blob", blob: data, mimeType: "application/zip" } },
      ],
    });
    assert.ok(!text.includes(data.slice(0, 40)), "bytes reached the model");
    assert.match(text, /\[image: image\/png, 3000 bytes, not shown\]/);
    assert.match(text, /\[resource: file:\/\/\/a\.txt \(a\)\]/);
    assert.match(text, /\[resource mem:\/\/note\]\nthe note/);
    assert.match(text, /\[resource: mem:\/\/blob, application\/zip, 3000 bytes, not shown\]/);
  });

  test("an isError result is marked as the tool's error; nothing at all says so", () => {
    assert.equal(of({ content: [{ type: "text", text: "no such city" }], isError: true }), "Error from the tool: no such city");
    assert.equal(of({}), "(the tool returned no content)");
  });

  test("cut to the limit on a character boundary, saying how much was left out; secrets scrubbed", () => {
    const text = of({ content: [{ type: "text", text: "é".repeat(5000) }] }, 1024);
    assert.ok(Buffer.byteLength(text) < 1024 + 80, `${Buffer.byteLength(text)} bytes`);
    assert.match(text, /…\(cut: \d+ more bytes of tool output\)$/);
    assert.ok(!text.includes("\uFFFD"), "a character was split");
    assert.equal(of({ content: [{ type: "text", text: "key sk-tool-result-secret-0123456789" }] }), "key [redacted]");
  });
});

// --- the tools command -------------------------------------------------------------------------

describe("openai-gateway tools: the server's name and config", () => {
  test("named after the command, past launchers, flags, scopes, versions, entry files and the usual prefixes", () => {
    const cases: [string[], string][] = [
      [["npx", "-y", "@modelcontextprotocol/server-everything"], "everything"],
      [["npx", "-y", "@modelcontextprotocol/server-memory@2026.8.31"], "memory"],
      [["uvx", "mcp-server-fetch"], "fetch"],
      [["uvx", "mcp-server-time", "--local-timezone=America/New_York"], "time"],
      [["python", "weather.py"], "weather"],
      [["node", "/opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js", "stdio"], "everything"],
      [["/usr/local/bin/node", "/srv/weather-mcp/build/index.js"], "weather"],
      [["C:\\Program Files\\nodejs\\npx.cmd", "-y", "@modelcontextprotocol/server-filesystem", "C:\\data"], "filesystem"],
      [["docker", "run", "-i", "--rm", "mcp/github-mcp-server"], "github"],
      [["./my tool"], "my_tool"],
    ];
    for (const [command, name] of cases) assert.equal(serverNameFor(command), name, command.join(" "));
  });

  test("one stdio server on port 8000 and loopback by default; --api-key is a key for every tool; no command is an error", async () => {
    const { config, server } = await parseToolsCommand(["--", "npx", "-y", "@modelcontextprotocol/server-everything"], {}, "0.0.0");
    assert.equal(server, "everything");
    assert.deepEqual([config.server.host, config.server.port], ["127.0.0.1", 8000]);
    assert.deepEqual(config.mcpServers.map((s) => [s.name, s.transport]), [["everything", { type: "stdio", command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"], env: {}, cwd: undefined }]]);
    assert.deepEqual(config.clients, []);
    const keyed = await parseToolsCommand(["--port", "9100", "--api-key", "tool-key-0123", "--name", "ev", "--", "node", "s.js"], {}, "0.0.0");
    assert.equal(keyed.server, "ev");
    assert.equal(keyed.config.server.port, 9100);
    assert.deepEqual(keyed.config.clients, [{ name: "env-key-1", hash: sha256("tool-key-0123"), models: ["*"], tools: ["*"], admin: false }]);
    await assert.rejects(parseToolsCommand(["--port", "8000"], {}, "0.0.0"), (err: unknown) => err instanceof ConfigError && /after --/.test(err.message));
    // Not loopback without a key: refused, as the gateway without client keys is.
    await assert.rejects(parseToolsCommand(["--host", "0.0.0.0", "--", "x"], {}, "0.0.0"), (err: unknown) => err instanceof ConfigError && /loopback/.test(err.message));
  });
});

test("jsonLength: a value's JSON length without serialising it (the prompt estimate of every chat request)", () => {
  const values: unknown[] = [
    [{ role: "user", content: "hi there" }],
    [{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "get-sum", arguments: "a=1" } }] }, { role: "tool", tool_call_id: "c1", content: "3" }],
    [{ role: "user", content: [{ type: "text", text: "look" }, { type: "image_url", image_url: { url: "https://x/y.png", detail: "low" } }] }],
    { a: [1, 2.5, -3, true, false, null, [], {}], b: undefined, c: "" },
    "plain",
  ];
  for (const v of values) assert.equal(jsonLength(v), JSON.stringify(v).length, JSON.stringify(v));
  // Escapes are not counted: an estimate, short by one character for each.
  assert.equal(jsonLength({ arguments: '{"a":1}' }), JSON.stringify({ arguments: '{"a":1}' }).length - 2);
});
