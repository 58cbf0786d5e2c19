/**
 * The upstream key never reaches a client or a log line, even when the upstream echoes it back
 * (OpenAI's 401 says "Incorrect API key provided: sk-..."), and client keys are never logged.
 * Every status, header and body byte a client receives, and every line the gateway writes at
 * info, debug and trace, is searched for the key, any 12-character piece of it, and the parts a
 * masked form shows.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startFakeUpstream, type Behaviour, type FakeUpstream } from "@mcpgw/fake-upstream";
import OpenAI from "openai";
import { configFor, startGateway, type GatewayProcess } from "@mcpgw/test-support";

// Distinctive throughout, so that no piece of it can turn up in a log line by chance.
const UPSTREAM_KEY = "sk-Qx9SECRET-0123456789abcdefghijKLMNzz7W";
// How OpenAI masks a key it echoes: the first and last few characters stay visible.
const MASKED_KEY = "sk-Qx9SE******************************zz7W";
const MASK_VISIBLE = ["Qx9SE", "zz7W"];
const CLIENT_KEY = "gw-client-Hx4PRIVATE-9876543210zyxwvuts";
const WRONG_CLIENT_KEY = "gw-client-Jm2NOTMINE-5555544444qponmlk";

const CHAT = "/v1/chat/completions";
const MODELS = "/v1/models";
const EMBEDDINGS = "/v1/embeddings";

/** Every 12-character piece of a key (after its "sk-"-like prefix). */
function pieces(key: string): string[] {
  const body = key.replace(/^[a-z]+-/, "");
  return Array.from({ length: body.length - 11 }, (_, i) => body.slice(i, i + 12));
}

const UPSTREAM_FORBIDDEN = [UPSTREAM_KEY, ...pieces(UPSTREAM_KEY), ...MASK_VISIBLE];
const CLIENT_FORBIDDEN = [CLIENT_KEY, ...pieces(CLIENT_KEY), WRONG_CLIENT_KEY, ...pieces(WRONG_CLIENT_KEY)];

function assertAbsent(texts: string[], forbidden: string[], where: string): void {
  for (const text of texts) {
    for (const f of forbidden) {
      assert.ok(!text.includes(f), `${where} contains '${f}':\n${text}`);
    }
  }
}

const openAIError = (status: number, message: string, code: string | null) => ({
  kind: "status" as const,
  status,
  body: { error: { message, type: status === 401 ? "invalid_request_error" : "server_error", param: null, code } },
});

const echoFull: Behaviour = openAIError(
  401,
  `Incorrect API key provided: ${UPSTREAM_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`,
  "invalid_api_key",
);
const echoMasked: Behaviour = openAIError(
  401,
  `Incorrect API key provided: ${MASKED_KEY}. You can find your API key at https://platform.openai.com/account/api-keys.`,
  "invalid_api_key",
);
const serverErrorWithKey: Behaviour = openAIError(500, `Upstream auth with 'Bearer ${UPSTREAM_KEY}' failed`, null);
const htmlWithKey: Behaviour = {
  kind: "status",
  status: 502,
  body: `<html><body><h1>502 Bad Gateway</h1><p>proxy could not forward Authorization: Bearer ${UPSTREAM_KEY}</p></body></html>`,
};
// A plain-text body long enough to be shortened, with the key right where it is cut: only the
// head of the key ("sk-Qx9SE") falls inside the part that is kept.
const LONG_PREFIX = "Service unavailable; the request carried the credential ".padEnd(492, "-");
const longTextWithKey: Behaviour = { kind: "status", status: 503, body: `${LONG_PREFIX}${UPSTREAM_KEY} and more text after it.` };

interface Run {
  gw: GatewayProcess;
  /** Everything the clients received: statuses, headers, bodies, SDK error texts. */
  seen: string[];
}

let up: FakeUpstream;
const gateways: GatewayProcess[] = [];

before(async () => {
  up = await startFakeUpstream();
});
after(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await up?.close();
});

async function runScenarios(logLevel: string): Promise<Run> {
  up.reset();
  const gw = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY, LOG_LEVEL: logLevel },
    config: configFor(up.url, {
      timeouts: { firstByteMs: 300, idleMs: 300, totalMs: 10_000 },
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 20, maxRetryAfterMs: 1000 },
    }),
  });
  gateways.push(gw);
  const seen: string[] = [];
  const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });

  const call = async (method: "GET" | "POST", path: string, body?: object, key: string | null = CLIENT_KEY) => {
    const headers: Record<string, string> = body ? { "content-type": "application/json" } : {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const res = await fetch(`${gw.origin}${path}`, { method, headers, body: body && JSON.stringify(body) });
    const text = await res.text();
    seen.push(`${res.status} ${res.statusText}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${text}`);
    return { status: res.status, text };
  };
  const chat = (extra: object = {}) => call("POST", CHAT, { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], ...extra });
  /** Runs one client call with `behaviour` as the upstream's answer on `path`, then resets the upstream. */
  const withUpstream = async <T>(path: string, behaviour: Behaviour, fn: () => Promise<T>): Promise<T> => {
    up.setDefault(path, behaviour);
    try {
      return await fn();
    } finally {
      up.reset();
    }
  };

  // Successes: plain, streamed, model list, embeddings.
  assert.equal((await chat()).status, 200);
  assert.match((await chat({ stream: true })).text, /data: \[DONE\]/);
  assert.equal((await call("POST", EMBEDDINGS, { model: "text-embedding-3-small", input: "hi" })).status, 200);
  assert.equal(up.requests[0]?.headers.authorization, `Bearer ${UPSTREAM_KEY}`, "the upstream did not get the key");

  // The upstream echoes the key in full, masked, in a 500, in an HTML page, in a long text. Its 401
  // is the gateway's own credentials failing: a 502 for the client, not a 401 that blames its key.
  for (const [path, behaviour, status] of [
    [CHAT, echoFull, 502],
    [CHAT, echoMasked, 502],
    [EMBEDDINGS, echoFull, 502],
    [MODELS, echoFull, 502], // before the successful list below: failures are not cached
    [MODELS, echoMasked, 502],
    [CHAT, serverErrorWithKey, 500],
    [CHAT, htmlWithKey, 502],
    [CHAT, longTextWithKey, 503],
  ] as const) {
    const res = await withUpstream(path, behaviour, () => (path === MODELS ? call("GET", MODELS) : path === CHAT ? chat() : call("POST", EMBEDDINGS, { model: "text-embedding-3-small", input: "hi" })));
    assert.equal(res.status, status, res.text);
    assert.match(res.text, /"error"/);
  }
  // Streams that fail before and after the first byte, and a timeout.
  assert.equal((await withUpstream(CHAT, echoFull, () => chat({ stream: true }))).status, 502);
  assert.match((await withUpstream(CHAT, { kind: "stream-cut", afterChunks: 2 }, () => chat({ stream: true }))).text, /data: \{"error"/);
  assert.equal((await withUpstream(CHAT, { kind: "hang" }, () => chat())).status, 504);
  assert.equal((await withUpstream(CHAT, { kind: "status", status: 429, headers: { "retry-after": "0" } }, () => chat())).status, 429);
  // The model list, now that it succeeds, and one model.
  assert.match((await call("GET", MODELS)).text, /gpt-4o-mini/);
  assert.equal((await call("GET", `${MODELS}/gpt-4o-mini`)).status, 200);

  // With the official SDK: what a user would print.
  const sdkErr = await withUpstream(CHAT, echoFull, () =>
    client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }).then(
      () => assert.fail("expected a 502"),
      (e: unknown) => e,
    ),
  );
  assert.ok(sdkErr instanceof OpenAI.InternalServerError, String(sdkErr));
  assert.equal(sdkErr.code, "upstream_auth_failed");
  assert.match(
    sdkErr.message,
    /^502 Upstream provider 'fake' rejected the gateway's own credentials \(401\): Incorrect API key provided: \S+\. You can find your API key/,
    "the upstream's message should still reach the client",
  );
  seen.push(sdkErr.message, JSON.stringify(sdkErr.error), JSON.stringify([...sdkErr.headers]), String(sdkErr.stack));

  // Clients with a wrong key or none, and the unauthenticated endpoints.
  assert.equal((await call("POST", CHAT, { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }, WRONG_CLIENT_KEY)).status, 401);
  assert.equal((await call("GET", MODELS, undefined, null)).status, 401);
  for (const path of ["/health", "/ready", "/metrics"]) assert.equal((await call("GET", path, undefined, null)).status, 200);

  // Stopped here so that the shutdown lines are searched too.
  assert.equal(await gw.stop(), 0);
  return { gw, seen };
}

for (const level of ["info", "debug", "trace"]) {
  test(`LOG_LEVEL=${level}: neither clients nor logs ever show the upstream key; logs never show client keys`, async () => {
    const { gw, seen } = await runScenarios(level);
    assertAbsent(seen, UPSTREAM_FORBIDDEN, "a response to the client");
    assertAbsent(gw.lines, UPSTREAM_FORBIDDEN, "a gateway log line");
    assertAbsent(gw.lines, CLIENT_FORBIDDEN, "a gateway log line");
    // The checks above looked at real material: the upstream's messages reached clients (scrubbed),
    // and at debug and below the failures were logged with their messages.
    assert.ok(seen.some((s) => s.includes("Incorrect API key provided: [redacted]")), "no scrubbed 401 message was seen");
    assert.ok(gw.lines.length > 20, `only ${gw.lines.length} log lines`);
    if (level !== "info") {
      assert.ok(gw.lines.some((l) => l.includes("Incorrect API key provided")), "the debug log does not show failed requests");
    }
  });
}

test("credentials sent as extra provider headers (x-api-key, Basic auth) are scrubbed like the key; other headers are not", async () => {
  const HEADER_SECRET = "hdr-Wv7CREDENTIAL-24680fedcba13579";
  const PROXY_CRED = "cHJveHk6Tm90VGhpc09uZQ==";
  const gw = await startGateway({
    env: { HEADER_SECRET, PROXY_CRED, GATEWAY_API_KEYS: CLIENT_KEY },
    config: {
      providers: {
        fake: {
          type: "openai",
          baseUrl: up.url,
          headers: { "x-api-key": "${HEADER_SECRET}", "proxy-authorization": "Basic ${PROXY_CRED}", "openai-organization": "org-visible-1234" },
        },
      },
      passthrough: "fake",
      retry: { maxAttempts: 1 },
    },
  });
  gateways.push(gw);
  up.reset();
  up.setDefault(CHAT, openAIError(403, `Key ${HEADER_SECRET} of org-visible-1234 may not use this model (proxy user ${PROXY_CRED})`, "forbidden"));
  try {
    const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0 });
    const err = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }).then(
      () => assert.fail("expected a 502"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.InternalServerError, String(err));
    assert.equal(up.requests[0]?.headers["x-api-key"], HEADER_SECRET, "the upstream did not get the header");
    assert.equal(err.message, "502 Upstream provider 'fake' rejected the gateway's own credentials (403): Key [redacted] of org-visible-1234 may not use this model (proxy user [redacted])");
    assertAbsent([err.message, JSON.stringify(err.error)], [HEADER_SECRET, ...pieces(HEADER_SECRET), PROXY_CRED], "a response to the client");
  } finally {
    up.reset();
    assert.equal(await gw.stop(), 0);
  }
  assertAbsent(gw.lines, [HEADER_SECRET, ...pieces(HEADER_SECRET), PROXY_CRED], "a gateway log line");
});

test("the key echoed in any field of an upstream error, in a header, in an SSE error event or in an answer never reaches the client", async () => {
  const gw = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
    config: configFor(up.url, { retry: { maxAttempts: 1 }, timeouts: { firstByteMs: 2000, idleMs: 2000 } }),
  });
  gateways.push(gw);
  const K = UPSTREAM_KEY;
  const everyField = { message: `message ${K}`, type: `type ${K}`, code: `code ${K}`, param: `param ${K}` };
  const chunk = (content: string) => ({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] });
  const cases: [string, Behaviour, boolean][] = [
    ["every field of an error", { kind: "status", status: 400, body: { error: everyField } }, false],
    ["fields that are nothing but the key", { kind: "status", status: 422, body: { error: { message: K, type: K, code: K, param: K } } }, false],
    ["a 5xx's fields, retry headers and a header of its own", { kind: "status", status: 503, headers: { "retry-after": K, "retry-after-ms": K, "x-echo": K }, body: { error: everyField } }, false],
    ["a 429 with the key as its retry-after", { kind: "status", status: 429, headers: { "retry-after": `${K}` }, body: { error: everyField } }, false],
    ["an error that is a bare string", { kind: "status", status: 400, body: { error: `bad request made with ${K}` } }, false],
    ["the content type of a success", { kind: "status", status: 200, headers: { "content-type": `application/json; charset=${K}` }, body: { id: "c", object: "chat.completion", created: 1, model: "m", choices: [] } }, false],
    ["the text of a success", { kind: "status", status: 200, body: { id: "c", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: `your key is ${K}` }, finish_reason: "stop" }] } }, false],
    ["an error event mid-stream", { kind: "sse", events: [chunk("Hello"), { error: everyField }] }, true],
    ["an error event as the first event", { kind: "sse", events: [{ error: everyField }] }, true],
    ["a content delta and the stream's headers", { kind: "sse", headers: { "x-echo": K }, events: [chunk(`key: ${K}`)] }, true],
  ];
  const seen: string[] = [];
  for (const [what, behaviour, stream] of cases) {
    up.reset();
    up.setDefault(CHAT, behaviour);
    const res = await fetch(`${gw.origin}${CHAT}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream }),
    });
    const text = `${res.status}\n${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${await res.text()}`;
    assertAbsent([text], UPSTREAM_FORBIDDEN, `the answer for ${what}`);
    seen.push(text);
  }
  up.reset();
  // The checks looked at real material: scrubbed text arrived in place of the key.
  assert.ok(seen.filter((t) => t.includes("[redacted]")).length >= 8, seen.join("\n---\n"));
});
