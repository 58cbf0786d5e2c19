/**
 * Every error the gateway answers is OpenAI's `{"error":{"message","type","param","code"}}` with the
 * right status: checked with the official SDK (which picks its error class from the status and
 * reads that body) and with raw fetch where the SDK cannot send the request.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, beforeEach, test } from "node:test";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-upstream-secret-0123456789";
const FULL_KEY = "client-full-key";
const LIMITED_KEY = "client-limited-key";
const BODY_LIMIT = 1024;
const MESSAGES = [{ role: "user" as const, content: "hello" }];
const TIMEOUT = { timeout: 15_000 };

let upstream: FakeUpstream;
let gateway: GatewayProcess;

before(async () => {
  upstream = await startFakeUpstream({ apiKey: UPSTREAM_KEY });
  gateway = await startGateway({
    env: { UPSTREAM_KEY, FULL_KEY, LIMITED_KEY },
    // Aliases only, no passthrough: a name that is not an alias does not exist.
    config: {
      providers: { fake: { type: "openai", baseUrl: upstream.url, apiKey: "${UPSTREAM_KEY}" } },
      models: {
        fast: "fake/gpt-4o-mini",
        secret: { provider: "fake", model: "gpt-4o" },
        embed: "fake/text-embedding-3-small",
      },
      clients: [
        { name: "full", keyEnv: "FULL_KEY" },
        { name: "limited", keyEnv: "LIMITED_KEY", models: ["fast"] },
      ],
      server: { bodyLimitBytes: BODY_LIMIT },
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    },
  });
});
beforeEach(() => upstream.reset());
after(async () => {
  await gateway?.stop();
  await upstream?.close();
});

const sdk = (apiKey = FULL_KEY) => new OpenAI({ apiKey, baseURL: gateway.baseURL, maxRetries: 0, timeout: 10_000 });

type ErrorObject = { message: string; type: string; param: string | null; code: string | null };
type APIError = InstanceType<typeof OpenAI.APIError>;

/** Stack frames ("    at fn (file:line)") or source paths must never reach a client. */
function assertNoStackTrace(text: string): void {
  assert.doesNotMatch(text, /\n\s*at\s|\bat\s+\S+\s+\(|\.(?:ts|js|mjs|cjs):\d+|\/work\/|node_modules/, `leaks internals: ${text}`);
}

function assertOpenAIErrorShape(body: unknown): ErrorObject {
  assert.ok(body && typeof body === "object", `not an object: ${JSON.stringify(body)}`);
  assert.deepEqual(Object.keys(body), ["error"], JSON.stringify(body));
  const error = (body as { error: ErrorObject }).error;
  assert.deepEqual(Object.keys(error).sort(), ["code", "message", "param", "type"], JSON.stringify(body));
  assert.equal(typeof error.message, "string");
  assert.ok(error.message.length > 0, "empty message");
  assert.equal(typeof error.type, "string");
  assert.ok(error.param === null || typeof error.param === "string", `param: ${error.param}`);
  assert.ok(error.code === null || typeof error.code === "string", `code: ${error.code}`);
  assertNoStackTrace(JSON.stringify(body));
  return error;
}

/** Awaits an SDK call that must fail with `cls`; checks status and body shape. */
async function sdkError<C extends abstract new (...args: any[]) => APIError>(
  call: Promise<unknown>,
  cls: C,
  status: number,
): Promise<InstanceType<C>> {
  const err: unknown = await call.then(
    () => assert.fail("the request succeeded but should have failed"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  assert.equal(err.status, status);
  assertOpenAIErrorShape({ error: err.error });
  return err as InstanceType<C>;
}

interface RawResponse {
  status: number;
  contentType: string | null;
  text: string;
}

async function raw(path: string, init: RequestInit & { key?: string | null } = {}): Promise<RawResponse> {
  const { key = FULL_KEY, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key !== null) headers.set("authorization", `Bearer ${key}`);
  const res = await fetch(gateway.origin + path, { ...rest, headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, contentType: res.headers.get("content-type"), text: await res.text() };
}

/**
 * A chunked POST (no content-length), written in one go so that the server has the whole request
 * when it answers early: fetch writes chunk by chunk and can hit EPIPE once the 413 has closed the socket.
 */
function chunkedPost(path: string, body: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(gateway.origin);
    const socket = connect(Number(port), hostname);
    const payload = Buffer.from(body);
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer to the chunked request")));
    // write, not end: Node's server takes a half-closed socket for a client that went away.
    socket.write(
      Buffer.concat([
        Buffer.from(
          `POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${FULL_KEY}\r\n` +
            "content-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n" +
            `${payload.length.toString(16)}\r\n`,
        ),
        payload,
        Buffer.from("\r\n0\r\n\r\n"),
      ]),
    );
    const received: Buffer[] = [];
    socket.on("data", (d: Buffer) => received.push(d));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(received).toString("utf8");
      const [head = "", ...rest] = text.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const contentType = /^content-type:\s*(.+)$/im.exec(head)?.[1]?.trim() ?? null;
      resolve({ status, contentType, text: rest.join("\r\n\r\n") });
    });
  });
}

function rawError(res: RawResponse, status: number): ErrorObject {
  assert.equal(res.status, status, res.text);
  assert.match(res.contentType ?? "", /^application\/json/);
  assertNoStackTrace(res.text);
  return assertOpenAIErrorShape(JSON.parse(res.text));
}

const postJson = (path: string, body: string, init: { key?: string | null; contentType?: string } = {}) =>
  raw(path, { method: "POST", body, headers: { "content-type": init.contentType ?? "application/json" }, key: init.key });

const CHAT = JSON.stringify({ model: "fast", messages: MESSAGES });

test("the right key gets an answer (so the failures below are about what they change)", TIMEOUT, async () => {
  const done = await sdk().chat.completions.create({ model: "fast", messages: MESSAGES });
  assert.equal(done.object, "chat.completion");
  assert.equal(upstream.requests.length, 1);
});

test("no API key: 401 invalid_api_key", TIMEOUT, async () => {
  const error = rawError(await postJson("/v1/chat/completions", CHAT, { key: null }), 401);
  assert.equal(error.code, "invalid_api_key");
  assert.match(error.message, /API key/i);
  // Also without a body, and on a GET: auth comes first.
  rawError(await raw("/v1/models", { key: null }), 401);
  const notBearer = rawError(await raw("/v1/models", { key: null, headers: { authorization: FULL_KEY } }), 401);
  assert.match(notBearer.message, /Bearer/);
  assert.equal(upstream.requests.length, 0);
});

test("a wrong API key: AuthenticationError 401, and the key is not echoed", TIMEOUT, async () => {
  const wrong = "client-wrong-key-9876";
  const err = await sdkError(sdk(wrong).chat.completions.create({ model: "fast", messages: MESSAGES }), OpenAI.AuthenticationError, 401);
  assert.equal(err.code, "invalid_api_key");
  assert.match(err.message, /^401 Incorrect API key/);
  assert.ok(!err.message.includes(wrong));
  await sdkError(sdk(wrong).models.list(), OpenAI.AuthenticationError, 401);
  assert.equal(upstream.requests.length, 0);
});

test("malformed JSON: 400 that says the JSON could not be parsed", TIMEOUT, async () => {
  const error = rawError(await postJson("/v1/chat/completions", '{"model": "fast", "messages": ['), 400);
  assert.equal(error.type, "invalid_request_error");
  assert.match(error.message, /JSON/);
  // Valid JSON that is not an object, and an empty body, are 400s too.
  rawError(await postJson("/v1/chat/completions", '["fast"]'), 400);
  rawError(await postJson("/v1/chat/completions", ""), 400);
  assert.equal(upstream.requests.length, 0);
});

test("a body that is not JSON (text/plain, form): 415 naming application/json", TIMEOUT, async () => {
  const error = rawError(await postJson("/v1/chat/completions", CHAT, { contentType: "text/plain" }), 415);
  assert.match(error.message, /application\/json/);
  rawError(await postJson("/v1/embeddings", "model=embed&input=x", { contentType: "application/x-www-form-urlencoded" }), 415);
  assert.equal(upstream.requests.length, 0);
});

test("a body over server.bodyLimitBytes: 413, through the SDK and raw", TIMEOUT, async () => {
  const big = [{ role: "user" as const, content: "x".repeat(BODY_LIMIT * 2) }];
  const err = await sdkError(sdk().chat.completions.create({ model: "fast", messages: big }), OpenAI.APIError, 413);
  assert.match(err.message, /larger than/);
  const error = rawError(await postJson("/v1/chat/completions", JSON.stringify({ model: "fast", messages: big })), 413);
  assert.equal(error.code, "request_too_large");
  // Without a content-length (chunked), the limit holds while reading.
  rawError(await chunkedPost("/v1/chat/completions", JSON.stringify({ model: "fast", messages: big })), 413);
  assert.equal(upstream.requests.length, 0);
  const smallChunked = await chunkedPost("/v1/chat/completions", CHAT);
  assert.equal(smallChunked.status, 200, smallChunked.text);
  // Just under the limit still goes through.
  const fits = [{ role: "user" as const, content: "x".repeat(BODY_LIMIT - 100) }];
  await sdk().chat.completions.create({ model: "fast", messages: fits });
  assert.equal(upstream.requests.length, 2);
});

test("missing `model`: BadRequestError whose param and message name `model`", TIMEOUT, async () => {
  const noModel = { messages: MESSAGES } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
  const err = await sdkError(sdk().chat.completions.create(noModel), OpenAI.BadRequestError, 400);
  assert.equal(err.param, "model");
  assert.match(err.message, /'model'/);
  // An empty model name is no better.
  const empty = await sdkError(sdk().chat.completions.create({ model: "", messages: MESSAGES }), OpenAI.BadRequestError, 400);
  assert.equal(empty.param, "model");
  assert.equal(upstream.requests.length, 0);
});

test("missing `messages`: BadRequestError whose param and message name `messages`", TIMEOUT, async () => {
  const noMessages = { model: "fast" } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming;
  const err = await sdkError(sdk().chat.completions.create(noMessages), OpenAI.BadRequestError, 400);
  assert.equal(err.param, "messages");
  assert.match(err.message, /'messages'/);
  assert.equal(err.code, "missing_required_parameter");
  const wrongType = rawError(await postJson("/v1/chat/completions", JSON.stringify({ model: "fast", messages: "hi" })), 400);
  assert.equal(wrongType.param, "messages");
  assert.equal(upstream.requests.length, 0);
});

test("embeddings without `input`: BadRequestError that says `input` is missing", TIMEOUT, async () => {
  const noInput = { model: "embed" } as unknown as OpenAI.EmbeddingCreateParams;
  const err = await sdkError(sdk().embeddings.create(noInput), OpenAI.BadRequestError, 400);
  assert.equal(err.param, "input");
  assert.equal(err.code, "missing_required_parameter");
  assert.match(err.message, /Missing required parameter: 'input'/);
  assert.equal(upstream.requests.length, 0);
  // And the same request with input works.
  const ok = await sdk().embeddings.create({ model: "embed", input: "hi" });
  assert.equal(ok.data.length, 1);
});

test("a model the key may not use answers exactly like a model that does not exist", TIMEOUT, async () => {
  // The limited key does reach its own model.
  await sdk(LIMITED_KEY).chat.completions.create({ model: "fast", messages: MESSAGES });
  upstream.reset();

  const forbidden = await sdkError(sdk(LIMITED_KEY).chat.completions.create({ model: "secret", messages: MESSAGES }), OpenAI.NotFoundError, 404);
  const missing = await sdkError(sdk(FULL_KEY).chat.completions.create({ model: "nosuch", messages: MESSAGES }), OpenAI.NotFoundError, 404);
  assert.equal(forbidden.code, "model_not_found");
  assert.equal(forbidden.param, "model");
  assert.match(forbidden.message, /'secret'/);
  const anonymise = (e: APIError, name: string) => JSON.stringify(e.error).replaceAll(name, "MODEL");
  assert.equal(anonymise(forbidden, "secret"), anonymise(missing, "nosuch"));

  // Byte for byte on the wire too, and the same for GET /v1/models/{id}.
  const rawForbidden = await postJson("/v1/chat/completions", JSON.stringify({ model: "secret", messages: MESSAGES }), { key: LIMITED_KEY });
  const rawMissing = await postJson("/v1/chat/completions", JSON.stringify({ model: "nosuch", messages: MESSAGES }));
  rawError(rawForbidden, 404);
  rawError(rawMissing, 404);
  assert.equal(rawForbidden.text.replaceAll("secret", "MODEL"), rawMissing.text.replaceAll("nosuch", "MODEL"));
  const getForbidden = await sdkError(sdk(LIMITED_KEY).models.retrieve("secret"), OpenAI.NotFoundError, 404);
  const getMissing = await sdkError(sdk(FULL_KEY).models.retrieve("nosuch"), OpenAI.NotFoundError, 404);
  assert.equal(anonymise(getForbidden, "secret"), anonymise(getMissing, "nosuch"));
  // The full key does see "secret", so the 404 above really is about the key.
  assert.equal((await sdk(FULL_KEY).models.retrieve("secret")).id, "secret");
  assert.equal(upstream.requests.length, 0);
});

test("an unknown URL or method: 404 in OpenAI's shape naming the path", TIMEOUT, async () => {
  const error = rawError(await raw("/v1/no-such-endpoint"), 404);
  assert.match(error.message, /\/v1\/no-such-endpoint/);
  rawError(await raw("/nothing/here?x=1", { key: null }), 404);
  rawError(await raw("/v1/chat/completions", { method: "DELETE" }), 404);
  // An endpoint of OpenAI's that the gateway does not serve (the Assistants API).
  const err = await sdkError(sdk().post("/assistants", { body: { model: "fast" } }), OpenAI.NotFoundError, 404);
  assert.match(err.message, /\/v1\/assistants/);
  assert.equal(upstream.requests.length, 0);
});

test("a URL with a broken %-escape: 400 in OpenAI's shape", TIMEOUT, async () => {
  rawError(await raw("/v1/models/%E0%A4%A"), 400);
  rawError(await raw("/v1/%zz"), 400);
});

test("an upstream 429 that outlasts the retries keeps its status, message, code and retry header", TIMEOUT, async () => {
  const message = "Rate limit reached for gpt-4o-mini on tokens per min (TPM): Limit 30000, Used 30000.";
  const limited = {
    kind: "status" as const,
    status: 429,
    headers: { "retry-after-ms": "5" },
    body: { error: { message, type: "tokens", param: null, code: "rate_limit_exceeded" } },
  };
  upstream.enqueue("/v1/chat/completions", limited, limited);
  const err = await sdkError(sdk().chat.completions.create({ model: "fast", messages: MESSAGES }), OpenAI.RateLimitError, 429);
  assert.equal(err.error && (err.error as ErrorObject).message, message);
  assert.equal(err.code, "rate_limit_exceeded");
  assert.equal(err.type, "tokens");
  assert.equal(err.headers?.get("retry-after-ms"), "5");
  assert.equal(upstream.requests.length, 2, "retried up to retry.maxAttempts");
});

test("an upstream 404 keeps its status and message, and is not retried", TIMEOUT, async () => {
  const message = "The model `gpt-4o-mini` does not exist or you do not have access to it.";
  upstream.enqueue("/v1/chat/completions", {
    kind: "status",
    status: 404,
    body: { error: { message, type: "invalid_request_error", param: null, code: "model_not_found" } },
  });
  const err = await sdkError(sdk().chat.completions.create({ model: "fast", messages: MESSAGES }), OpenAI.NotFoundError, 404);
  assert.equal(err.message, `404 ${message}`);
  assert.equal(err.code, "model_not_found");
  assert.equal(upstream.requests.length, 1);
});

test("an upstream 5xx that is not JSON becomes OpenAI's shape with the same status", TIMEOUT, async () => {
  const html = { kind: "status" as const, status: 502, body: "<html><body>502 Bad Gateway</body></html>" };
  upstream.enqueue("/v1/chat/completions", html, html);
  const err = await sdkError(sdk().chat.completions.create({ model: "fast", messages: MESSAGES }), OpenAI.InternalServerError, 502);
  assert.match(err.message, /502 Bad Gateway/);
  assert.equal(upstream.requests.length, 2);
});

test("an upstream error that echoes the upstream key reaches the client without it", TIMEOUT, async () => {
  upstream.enqueue("/v1/embeddings", {
    kind: "status",
    status: 400,
    body: { error: { message: `Bad request made with key ${UPSTREAM_KEY}.`, type: "invalid_request_error", param: null, code: null } },
  });
  const err = await sdkError(sdk().embeddings.create({ model: "embed", input: "hi" }), OpenAI.BadRequestError, 400);
  assert.ok(!JSON.stringify(err.error).includes(UPSTREAM_KEY), err.message);
  assert.match(err.message, /Bad request made with key/);
});

test("a stream that fails before its first byte fails like a plain request", TIMEOUT, async () => {
  upstream.enqueue("/v1/chat/completions", { kind: "status", status: 400, body: { error: { message: "bad tools", type: "invalid_request_error", param: "tools", code: null } } });
  const err = await sdkError(sdk().chat.completions.create({ model: "fast", messages: MESSAGES, stream: true }), OpenAI.BadRequestError, 400);
  assert.equal(err.param, "tools");
  assert.equal(err.message, "400 bad tools");
});

test("an unexpected failure inside the gateway is a 5xx in OpenAI's shape, with no stack trace", TIMEOUT, async () => {
  // With passthrough, GET /v1/models reads the upstream's list: make it unreadable.
  const passthrough = await startGateway({
    env: { UPSTREAM_KEY },
    config: { providers: { fake: { type: "openai", baseUrl: upstream.url, apiKey: "${UPSTREAM_KEY}" } }, passthrough: "fake" },
  });
  try {
    upstream.enqueue("/v1/models", { kind: "status", status: 200, body: "<html>this is not a model list</html>" });
    const client = new OpenAI({ apiKey: "unused", baseURL: passthrough.baseURL, maxRetries: 0, timeout: 10_000 });
    const err = await client.models.list().then(
      () => assert.fail("listing succeeded"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.InternalServerError, String(err));
    assertOpenAIErrorShape({ error: err.error });
    assert.ok(!JSON.stringify(err.error).includes("<html>"), "no raw internals either");
    // The next request, with a readable list, works: the failure was not cached.
    assert.ok((await client.models.list()).data.some((m) => m.id === "gpt-4o-mini"));
  } finally {
    await passthrough.stop();
  }
});
