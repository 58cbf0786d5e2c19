/**
 * SIGTERM drains: no new connections, the requests in flight run to completion, then exit 0.
 */
import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, afterEach, before, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import OpenAI from "openai";
import { configFor, startGateway, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-fake-upstream-key-for-shutdown-tests";
const CLIENT_KEY = "gw-shutdown-client-key";
const CHAT = "/v1/chat/completions";

let up: FakeUpstream;
let gw: GatewayProcess | undefined;

before(async () => {
  up = await startFakeUpstream();
});
afterEach(async () => {
  await gw?.stop("SIGKILL");
  gw = undefined;
  up.reset();
});
after(() => up?.close());

const start = () => startGateway({ env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY }, config: configFor(up.url) });

/** Resolves when the gateway has logged a line matching `re`. */
function waitForLine(g: GatewayProcess, re: RegExp, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const streams = [g.proc.stdout!, g.proc.stderr!];
    const check = () => {
      const line = g.lines.find((l) => re.test(l));
      if (line === undefined) return;
      done();
      resolve(line);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no log line matching ${re} within ${timeoutMs} ms:\n${g.lines.join("\n")}`));
    }, timeoutMs);
    // The lines are collected on "data"; check again after each chunk has been split into lines.
    const onData = () => setImmediate(check);
    const done = () => {
      clearTimeout(timer);
      for (const s of streams) s.off("data", onData);
    };
    for (const s of streams) s.on("data", onData);
    check();
  });
}

/**
 * What a brand-new client connection gets once draining began: "refused"; "reset" when it slipped
 * into the listen backlog just before the listener closed and was dropped unserved; or, if it was
 * accepted, the status of GET /ready on it.
 */
function newConnection(origin: string): Promise<"refused" | "reset" | number> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let response = "";
    socket.setTimeout(5000, () => socket.destroy(new Error("no answer on a new connection within 5 s")));
    socket.once("connect", () => socket.write(`GET /ready HTTP/1.1\r\nhost: ${hostname}\r\nconnection: close\r\n\r\n`));
    socket.on("data", (d) => (response += d));
    socket.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ECONNREFUSED") resolve("refused");
      else if (err.code === "ECONNRESET" || err.code === "EPIPE") resolve("reset");
      else reject(err);
    });
    socket.once("close", () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(response);
      resolve(status ? Number(status[1]) : "reset");
    });
  });
}

function exitWithin(g: GatewayProcess, ms: number): Promise<number | null> {
  return Promise.race([
    g.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`gateway still running ${ms} ms later:\n${g.lines.join("\n")}`)), ms).unref()),
  ]);
}

test("SIGTERM with requests in flight: no new connections, the stream and the waiting request complete, then exit 0", async () => {
  const g = (gw = await start());
  up.enqueue(CHAT, { kind: "slow-stream", chunkDelayMs: 100, chunks: 20 }); // about 2 s
  const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: g.baseURL, maxRetries: 0, timeout: 20_000 });
  const stream = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true });
  const iterator = stream[Symbol.asyncIterator]();
  let content = "";
  const first = await iterator.next();
  assert.equal(first.done, false);
  // And a non-streaming request still waiting for its upstream.
  up.enqueue(CHAT, { kind: "delay", ms: 1000 });
  const waiting = client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "still there" }] });
  await up.waitForRequests(2);

  g.proc.kill("SIGTERM");
  await waitForLine(g, /shutting down/);
  const outcome = await newConnection(g.origin);
  assert.ok(outcome === "refused" || outcome === "reset" || outcome === 503, `a new connection during the drain got ${outcome}`);

  for (let next = await iterator.next(); !next.done; next = await iterator.next()) content += next.value.choices[0]?.delta.content ?? "";
  assert.equal(content, "tok ".repeat(20), "the stream in flight was not allowed to finish");
  assert.equal((await waiting).choices[0]?.message.content, "echo: still there");
  const streamEnded = performance.now();
  assert.equal(await exitWithin(g, 10_000), 0);
  const exitMs = performance.now() - streamEnded;
  assert.ok(exitMs < 3000, `exited ${exitMs} ms after the last stream ended`);
  assert.ok(g.lines.some((l) => /"stopped"/.test(l)), g.lines.join("\n"));
});

test("an idle gateway exits 0 promptly on SIGTERM, even with an idle keep-alive connection open", async () => {
  const g = (gw = await start());
  const client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: g.baseURL, maxRetries: 0, timeout: 20_000 });
  const models = await client.models.list();
  assert.ok(models.data.length > 0);
  const sent = performance.now();
  g.proc.kill("SIGTERM");
  assert.equal(await exitWithin(g, 5000), 0);
  const ms = performance.now() - sent;
  assert.ok(ms < 2000, `exited ${ms} ms after SIGTERM`);
});

test("SIGTERM: a request that arrives on a kept-alive connection during the drain is served, then that connection closes", async () => {
  const g = (gw = await start());
  const { hostname, port } = new URL(g.origin);
  up.enqueue(CHAT, { kind: "delay", ms: 1500 }); // keeps the connection busy, so the drain does not close it
  const socket = connect(Number(port), hostname);
  let raw = "";
  socket.on("data", (d) => (raw += d));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const request = (content: string) => {
    const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content }] });
    return `POST ${CHAT} HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${CLIENT_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  };
  socket.write(request("in flight"));
  await up.waitForRequests(1);

  g.proc.kill("SIGTERM");
  await waitForLine(g, /shutting down/);
  socket.write(request("after SIGTERM"));
  await closed;

  const responses = raw.split(/(?=HTTP\/1\.1 \d{3})/);
  assert.equal(responses.length, 2, raw);
  assert.match(responses[0]!, /^HTTP\/1\.1 200[^]*echo: in flight/);
  // Served in full, in the gateway's own shape (not a framework's 503), and told to go elsewhere next.
  assert.match(responses[1]!, /^HTTP\/1\.1 200[^]*echo: after SIGTERM/);
  assert.match(responses[1]!, /\r\nconnection: close\r\n/i);
  assert.equal(await exitWithin(g, 10_000), 0);
});
