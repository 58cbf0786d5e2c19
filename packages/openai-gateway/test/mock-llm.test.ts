/**
 * The gateway in front of an OpenAI-compatible server nobody here wrote (@dwmkerr/mock-llm, which
 * echoes the last message), with the official openai SDK as the client. mock-llm's answers are
 * thinner than OpenAI's (no `usage`, no `created`) and its errors are not OpenAI-shaped.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createRequire } from "node:module";
import { createServer, type AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MOCK_LLM_MAIN = join(dirname(createRequire(import.meta.url).resolve("@dwmkerr/mock-llm/package.json")), "dist", "main.js");
const CLIENT_KEY = "k1";
const TIMEOUT = { timeout: 15_000 };
// Longer than mock-llm's 50-character stream chunks, so the stream has several content chunks.
const PROMPT = "Hello from the gateway test, please echo this sentence back to me in several pieces.";

let mockLlm: ChildProcess | undefined;
let mockLlmExited: Promise<unknown> | undefined;
let mockLlmUrl = "";
let gateway: GatewayProcess | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}

/** Starts mock-llm and resolves once it says it listens and answers /health. */
async function startMockLlm(port: number): Promise<void> {
  const child = spawn(process.execPath, [MOCK_LLM_MAIN], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  mockLlm = child;
  mockLlmExited = once(child, "exit");
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mock-llm did not start:\n${output}`)), 10_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (/server running on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`mock-llm exited with ${code} before listening:\n${output}`));
    });
  });
  const health = await fetch(`http://127.0.0.1:${port}/health`);
  assert.equal(health.status, 200, "mock-llm should answer /health");
}

before(async () => {
  const port = await freePort();
  await startMockLlm(port);
  mockLlmUrl = `http://127.0.0.1:${port}/v1`;
  gateway = await startGateway({
    env: { OPENAI_BASE_URL: mockLlmUrl, OPENAI_API_KEY: "sk-mock-upstream-key", GATEWAY_API_KEYS: CLIENT_KEY },
  });
});

after(async () => {
  await gateway?.stop();
  if (mockLlm && mockLlm.exitCode === null && mockLlm.signalCode === null) {
    mockLlm.kill("SIGTERM");
    await mockLlmExited;
  }
});

const sdk = () => new OpenAI({ baseURL: gateway!.baseURL, apiKey: CLIENT_KEY, maxRetries: 0, timeout: 10_000 });

test("non-streaming chat: the gateway relays mock-llm's echo", TIMEOUT, async () => {
  const completion = await sdk().chat.completions.create({
    model: "gpt-4o-mini",
    messages: [
      { role: "system", content: "You are an echo." },
      { role: "user", content: PROMPT },
    ],
  });
  assert.equal(completion.choices[0]?.message.role, "assistant");
  assert.equal(completion.choices[0]?.message.content, PROMPT);
  assert.equal(completion.choices[0]?.finish_reason, "stop");
  assert.equal(completion.model, "gpt-4o-mini"); // passthrough: the name reached mock-llm unchanged
  assert.equal(completion.usage, undefined);
});

test("streaming chat: the assembled text equals the echo, over several chunks", TIMEOUT, async () => {
  const stream = await sdk().chat.completions.create({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: PROMPT }],
    stream: true,
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
  assert.ok(contentChunks.length > 1, `expected several content chunks, got ${contentChunks.length}`);
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), PROMPT);
  assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "stop");
  assert.ok(chunks.every((c) => !c.usage), "mock-llm sends no usage, so none may appear");
});

test("models.list and models.retrieve show mock-llm's own models", TIMEOUT, async () => {
  // What mock-llm itself lists, asked directly.
  const direct = (await (await fetch(`${mockLlmUrl}/models`)).json()) as { data: { id: string }[] };
  const expected = direct.data.map((m) => m.id).sort();
  assert.ok(expected.length > 0);

  const listed = [];
  for await (const m of sdk().models.list()) listed.push(m);
  assert.deepEqual(listed.map((m) => m.id).sort(), expected);
  const retrieved = await sdk().models.retrieve(expected[0]!);
  assert.equal(retrieved.id, expected[0]);
});

test("a route mock-llm does not serve becomes an OpenAI-shaped error, not a crash", TIMEOUT, async () => {
  // mock-llm answers unknown routes with {"error":"Not Found","message":...}, which is not OpenAI's shape.
  const err = await sdk().embeddings.create({ model: "text-embedding-3-small", input: "hello" }).then(
    () => assert.fail("embeddings should fail: mock-llm does not serve them"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof OpenAI.NotFoundError, `expected NotFoundError, got ${String(err)}`);
  assert.equal(typeof err.message, "string");
  assert.match(err.message, /404/);
  assert.equal(err.type, "not_found_error");
  assert.ok(!err.message.includes("sk-mock-upstream-key"));
  // The gateway is still up and serving.
  const again = await sdk().chat.completions.create({ model: "m", messages: [{ role: "user", content: "still there" }] });
  assert.equal(again.choices[0]?.message.content, "still there");
});
