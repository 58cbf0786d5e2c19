/**
 * The shared rules, case by case: the retry decision (statuses, x-should-retry, retry-after in its
 * three forms, the cap, backoff and jitter), the SSE splitter on arbitrary splits, event reading,
 * the scrubber on every form a secret can take, error bodies of every shape, nesting depth, usage sums.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  addUsage,
  asChatUsage,
  backoffMs,
  createLearningScrubber,
  createScrubber,
  decideRetry,
  errorTypeFor,
  exceedsJsonDepth,
  formatComment,
  formatEvent,
  isRetryableStatus,
  mayHoldError,
  mayHoldUsage,
  readErrorFields,
  readEvent,
  REDACTED,
  recordLookup,
  SseSplitter,
  statusClass,
  type RetrySettings,
} from "../src/index.ts";

const settings: RetrySettings = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };
const headers = (h: Record<string, string | string[]>) => recordLookup(h);
const delay = (status: number | undefined, h: Record<string, string | string[]> = {}, attempt = 1, s = settings) => {
  const d = decideRetry({ status, header: headers(h) }, attempt, s);
  return d.retry ? d.delayMs : d.why;
};

describe("decideRetry", () => {
  test("retries 408, 409, 429, 5xx and failures without a status; not other 4xx", () => {
    for (const s of [408, 409, 429, 500, 502, 503, 504, 529]) assert.equal(isRetryableStatus(s), true, `${s}`);
    for (const s of [400, 401, 403, 404, 413, 422]) {
      assert.equal(isRetryableStatus(s), false, `${s}`);
      assert.equal(delay(s), "not retryable");
    }
    assert.equal(typeof delay(undefined), "number", "a connection error is retried");
  });

  test("x-should-retry overrides the status either way", () => {
    assert.equal(delay(500, { "x-should-retry": "false" }), "x-should-retry: false");
    assert.equal(delay(undefined, { "x-should-retry": "FALSE" }), "x-should-retry: false");
    assert.equal(typeof delay(400, { "x-should-retry": "true" }), "number");
    assert.equal(delay(400, { "x-should-retry": "maybe" }), "not retryable");
  });

  test("stops when the attempts are used up", () => {
    assert.equal(delay(500, {}, 5), "attempts used up");
    assert.equal(typeof delay(500, {}, 4), "number");
  });

  test("retry-after-ms is honoured exactly and wins over retry-after; retry-after in seconds or as an HTTP date", () => {
    assert.equal(delay(429, { "retry-after-ms": "1234" }), 1234);
    assert.equal(delay(429, { "retry-after-ms": "0" }, 3), 0);
    assert.equal(delay(429, { "retry-after-ms": "250", "retry-after": "10" }), 250);
    assert.equal(delay(429, { "retry-after-ms": ["40", "90"] }), 40);
    assert.equal(delay(429, { "retry-after": "3" }), 3_000);
    assert.equal(delay(429, { "retry-after": "1.5" }), 1_500);
    assert.equal(delay(429, { "retry-after": "60" }), 60_000, "exactly the cap is still honoured");
    assert.equal(delay(429, { "retry-after-ms": "", "retry-after": "2" }), 2_000);
    const at = new Date(Date.now() + 10_000).toUTCString();
    const d = delay(503, { "retry-after": at });
    assert.ok(typeof d === "number" && d > 8_500 && d <= 10_000, `${d}`);
  });

  test("a wait asked for beyond the cap is not waited for: no retry at all", () => {
    assert.equal(delay(429, { "retry-after": "61" }), "retry-after beyond the cap");
    assert.equal(delay(429, { "retry-after-ms": "60001" }), "retry-after beyond the cap");
    assert.equal(delay(429, { "retry-after": "5" }, 1, { ...settings, maxRetryAfterMs: 1_000 }), "retry-after beyond the cap");
  });

  /** The backoff for retry n is in [0.75 * b, b] for b = min(base * 2^(n-1), max). */
  function assertBackoff(n: number, h: Record<string, string> = {}): void {
    const b = Math.min(settings.baseDelayMs * 2 ** (n - 1), settings.maxDelayMs);
    for (let i = 0; i < 50; i++) {
      const d = delay(500, h, n, { ...settings, maxAttempts: 100 });
      assert.ok(typeof d === "number" && d >= 0.75 * b && d <= b, `retry ${n}: ${d} is outside [${0.75 * b}, ${b}] (${JSON.stringify(h)})`);
    }
  }

  test("negative, past or unreadable waits are ignored in favour of the backoff", () => {
    assertBackoff(1, { "retry-after-ms": "-5" });
    assertBackoff(1, { "retry-after": "-1" });
    assertBackoff(2, { "retry-after": new Date(Date.now() - 60_000).toUTCString() });
    assertBackoff(1, { "retry-after": "soon" });
    assertBackoff(1, { "retry-after-ms": "sk-not-a-number" });
  });

  test("backoff doubles from the base, is capped, and has jitter", () => {
    for (let n = 1; n <= 8; n++) assertBackoff(n);
    assert.equal(backoffMs(1, settings, () => 0), 500);
    assert.equal(backoffMs(1, settings, () => 1), 375);
    assert.equal(backoffMs(9, settings, () => 0), 8_000);
    const late = Array.from({ length: 50 }, () => backoffMs(9, settings));
    assert.ok(new Set(late).size > 1, "jittered, not constant");
  });
});

describe("SseSplitter", () => {
  const event = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content } }] })}\n\n`;
  const stream = Buffer.from(event("naïve café ☕ ") + event("done") + "data: [DONE]\n\n");

  test("whole events pass as one batch marked whole", () => {
    const s = new SseSplitter();
    const batch = s.push(stream);
    assert.equal(batch.events.length, 3);
    assert.equal(batch.whole, true);
    assert.equal(batch.events.join(""), stream.toString());
    assert.equal(s.flush(), "");
  });

  test("arbitrary splits, even inside a multi-byte character, give back exactly the events, never a partial one", () => {
    const coffee = stream.indexOf(Buffer.from("☕"));
    for (const offsets of [[1], [coffee + 1], [coffee + 2, coffee + 3], [10, 60, 61, stream.length - 3]]) {
      const s = new SseSplitter();
      const out: string[] = [];
      let start = 0;
      for (const o of [...offsets, stream.length]) {
        const batch = s.push(stream.subarray(start, o));
        start = o;
        for (const e of batch.events) assert.ok(e.endsWith("\n\n"), `a partial event: ${JSON.stringify(e)}`);
        out.push(...batch.events);
      }
      assert.equal(out.join("") + s.flush(), stream.toString(), `split at ${offsets}`);
    }
  });

  test("CRLF and CR terminators; a last event without its blank line is left for flush", () => {
    const s = new SseSplitter();
    assert.deepEqual(s.push(Buffer.from("data: a\r\n\r\ndata: b\r\rdata: c")).events, ["data: a\r\n\r\n", "data: b\r\r"]);
    assert.equal(s.pendingLength, 7);
    assert.equal(s.flush(), "data: c");
  });

  test("readEvent: data lines joined, the event name, comments and the optional space", () => {
    assert.deepEqual(readEvent("event: error\ndata: {\"a\":\ndata:1}\n\n"), { event: "error", data: '{"a":\n1}' });
    assert.deepEqual(readEvent(": keepalive\n\n"), { event: undefined, data: undefined });
    assert.deepEqual(readEvent("data:x\r\n\r\n"), { event: undefined, data: "x" });
    assert.equal(formatEvent("a\nb", "x"), "event: x\ndata: a\ndata: b\n\n");
    assert.equal(formatComment("still\nworking"), ": still working\n\n");
  });

  test("mayHoldError and mayHoldUsage see keys, not words inside strings", () => {
    assert.equal(mayHoldError('data: {"error": {"message": "x"}}\n\n'), true);
    assert.equal(mayHoldError('data: {"choices":[{"delta":{"content":"an \\"error\\": here"}}]}\n\n'), false);
    assert.equal(mayHoldUsage('data: {"usage" : {"prompt_tokens":1}}\n\n'), true);
    assert.equal(mayHoldUsage('data: {"usage":null}\n\n'), false);
  });
});

describe("createLearningScrubber", () => {
  test("what it learns later is scrubbed from then on, and what it knew stays scrubbed", () => {
    const scrub = createLearningScrubber(["first-secret-0123"]);
    assert.equal(scrub.exact("a second-secret-4567"), "a second-secret-4567");
    scrub.learn(["second-secret-4567", "first-secret-0123"]);
    assert.equal(scrub.exact("first-secret-0123 second-secret-4567"), `${REDACTED} ${REDACTED}`);
    assert.ok(scrub.leaks("x second-secret-4567"));
    assert.equal(scrub.bytes(Buffer.from("second-secret-4567")).toString(), REDACTED);
  });
});

describe("createScrubber", () => {
  const KEY = "sk-Qx9SECRET-0123456789/abc+def=";
  const scrub = createScrubber([KEY, "short"]);

  test("error text loses the secret in every form, and anything key-shaped", () => {
    assert.equal(scrub.text(`key ${KEY}.`), "key [redacted].");
    assert.equal(scrub.text(JSON.stringify({ k: `${KEY}` })), '{"k":"[redacted]"}');
    assert.equal(scrub.text(`?key=${encodeURIComponent(KEY)}`), "?key=[redacted]");
    assert.equal(scrub.text("other sk-proj-abcdefgh1234"), "other [redacted]");
    assert.equal(scrub.text("a short word"), "a short word", "secrets under 8 characters are not scrubbed");
  });

  test("data loses only the configured secrets; bytes without one come back as the same buffer", () => {
    assert.equal(scrub.exact(`code: sk-example-000000 and ${KEY}`), "code: sk-example-000000 and [redacted]");
    const clean = Buffer.from("data: nothing here\n\n");
    assert.equal(scrub.bytes(clean), clean);
    assert.equal(scrub.bytes(Buffer.from(`data: ${KEY}\n\n`)).toString(), "data: [redacted]\n\n");
    assert.equal(scrub.leaks(`x${KEY}x`), true);
    assert.equal(scrub.leaks("x"), false);
  });
});

describe("error bodies and the status table", () => {
  test("readErrorFields: OpenAI's shape, a bare string, a top-level message, numeric codes; nothing else", () => {
    assert.deepEqual(readErrorFields({ error: { message: "m", type: "t", param: "p", code: 42 } }), { message: "m", type: "t", param: "p", code: "42" });
    assert.deepEqual(readErrorFields({ error: "plain" }), { message: "plain" });
    assert.deepEqual(readErrorFields({ message: "top", code: "c" }), { message: "top", code: "c" });
    assert.deepEqual(readErrorFields({ error: { message: { nested: true }, type: 5 } }), {});
    assert.equal(readErrorFields("text"), undefined);
    assert.equal(readErrorFields({ data: [] }), undefined);
  });

  test("statusClass and errorTypeFor follow openai-node's classes and OpenAI's types", () => {
    assert.deepEqual([400, 401, 403, 404, 409, 422, 429, 500, 418].map(statusClass), [
      "bad_request", "authentication", "permission_denied", "not_found", "conflict", "unprocessable", "rate_limit", "server_error", "other",
    ]);
    assert.deepEqual([400, 401, 403, 404, 429, 502, 504].map(errorTypeFor), [
      "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "rate_limit_error", "api_error", "timeout_error",
    ]);
  });
});

test("exceedsJsonDepth measures 100,000 levels without recursion, and counts containers only", () => {
  const deep = JSON.parse(`${"[".repeat(100_000)}1${"]".repeat(100_000)}`);
  assert.equal(exceedsJsonDepth(deep, 64), true);
  assert.equal(exceedsJsonDepth({ a: [{ b: "x" }] }, 3), false);
  assert.equal(exceedsJsonDepth({ a: [{ b: {} }] }, 3), true);
  assert.equal(exceedsJsonDepth("just a string", 0), false);
});

test("addUsage sums field by field, details included", () => {
  assert.deepEqual(
    addUsage({ prompt_tokens: 3, completion_tokens: 4, total_tokens: 7, prompt_tokens_details: { cached_tokens: 1 } }, { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }),
    { prompt_tokens: 8, completion_tokens: 5, total_tokens: 13, prompt_tokens_details: { cached_tokens: 1 } },
  );
  assert.equal(addUsage(undefined, undefined), undefined);
});

test("asChatUsage: the Responses API's input and output tokens in chat's names; chat usage as it is", () => {
  assert.deepEqual(asChatUsage({ input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 2 }, total_tokens: 13 }), {
    prompt_tokens: 10,
    completion_tokens: 3,
    total_tokens: 13,
    prompt_tokens_details: { cached_tokens: 4 },
    completion_tokens_details: { reasoning_tokens: 2 },
  });
  const chat = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
  assert.equal(asChatUsage(chat), chat);
  assert.deepEqual(asChatUsage({ input_tokens: 5 }), { prompt_tokens: 5, completion_tokens: 0, total_tokens: 5 }, "images report input only");
  assert.equal(asChatUsage(null), undefined);
});
