/**
 * How the gateway connects to its upstreams, each case against a real server on 127.0.0.1:
 * HTTPS (OpenAI's own case) with a private CA, a certificate it must not trust, a port nobody
 * listens on, a TLS handshake that never finishes (the connect timeout), and kept-alive
 * connections that the upstream closes between requests.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createTcpServer, type AddressInfo, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { apiErrorOf, startGateway, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-connections-test-upstream-key";
const CLIENT_KEY = "gw-connections-client-key";
const MESSAGES = [{ role: "user" as const, content: "hello" }];

const dir = mkdtempSync(join(tmpdir(), "gw-tls-"));
const certFile = join(dir, "cert.pem");
const keyFile = join(dir, "key.pem");
after(() => rmSync(dir, { recursive: true, force: true }));

/** An upstream that answers chat completions (whole or streamed) and counts connections and requests. */
function answer(req: IncomingMessage, res: ServerResponse, seen: { requests: number; auth: string[] }) {
  let body = "";
  req.on("data", (c: Buffer) => (body += c));
  req.on("end", () => {
    seen.requests++;
    seen.auth.push(req.headers.authorization ?? "");
    const stream = (JSON.parse(body) as { stream?: boolean }).stream === true;
    const chunk = (content: string, finish: string | null) =>
      `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
    if (stream) {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(chunk("over ", null));
      res.end(chunk("tls", "stop") + "data: [DONE]\n\n");
      return;
    }
    const message = { role: "assistant", content: "hello over the wire" };
    const completion = { id: "c1", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message, finish_reason: "stop" }] };
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(completion));
  });
}

const listen = (server: Server | ReturnType<typeof createTcpServer>) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)));

function gatewayFor(baseUrl: string, env: Record<string, string> = {}, timeouts: object = {}): Promise<GatewayProcess> {
  return startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY, ...env },
    config: {
      providers: { up: { type: "openai", baseUrl, apiKey: "${UPSTREAM_KEY}" } },
      passthrough: "up",
      timeouts,
      retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
    },
  });
}

const clientOf = (gw: GatewayProcess) => new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 15_000 });

describe("an HTTPS upstream", () => {
  const seen = { requests: 0, auth: [] as string[] };
  let server: ReturnType<typeof createHttpsServer>;
  let baseUrl: string;

  before(async () => {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyFile, "-out", certFile,
    ], { stdio: "ignore" });
    server = createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => answer(req, res, seen));
    baseUrl = `https://127.0.0.1:${await listen(server)}/v1`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  test("with its CA in NODE_EXTRA_CA_CERTS: whole and streamed answers, the upstream key sent", async () => {
    const gw = await gatewayFor(baseUrl, { NODE_EXTRA_CA_CERTS: certFile });
    try {
      const client = clientOf(gw);
      const whole = await client.chat.completions.create({ model: "m", messages: MESSAGES });
      assert.equal(whole.choices[0]!.message.content, "hello over the wire");
      let text = "";
      for await (const c of await client.chat.completions.create({ model: "m", messages: MESSAGES, stream: true })) text += c.choices[0]?.delta.content ?? "";
      assert.equal(text, "over tls");
      assert.deepEqual(seen.auth.slice(-2), [`Bearer ${UPSTREAM_KEY}`, `Bearer ${UPSTREAM_KEY}`]);
    } finally {
      await gw.stop();
      server.closeAllConnections();
    }
  });

  test("with a certificate nobody vouched for: 502 that says the certificate was rejected", async () => {
    const gw = await gatewayFor(baseUrl);
    try {
      const before = seen.requests;
      const err = await apiErrorOf(clientOf(gw).chat.completions.create({ model: "m", messages: MESSAGES }));
      assert.equal(err.status, 502);
      assert.equal(err.code, "upstream_unreachable");
      assert.match(err.message, /TLS certificate was rejected \(DEPTH_ZERO_SELF_SIGNED_CERT\).*NODE_EXTRA_CA_CERTS/);
      assert.equal(seen.requests, before, "no request may be sent over a connection that failed verification");
    } finally {
      await gw.stop();
    }
  });
});

test("a port nobody listens on: 502 'connection refused' after the retries", async () => {
  const probe = createHttpServer();
  const port = await listen(probe);
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const gw = await gatewayFor(`http://127.0.0.1:${port}/v1`);
  try {
    const err = await apiErrorOf(clientOf(gw).chat.completions.create({ model: "m", messages: MESSAGES }));
    assert.equal(err.status, 502);
    assert.deepEqual(Object.keys(err.error as object).sort(), ["code", "message", "param", "type"]);
    assert.match(err.message, /Could not reach upstream provider 'up': connection refused/);
  } finally {
    await gw.stop();
  }
});

test("a TLS handshake that never finishes: 504 after connectMs, per attempt", async () => {
  // Accepts the TCP connection and then says nothing, so the handshake waits forever.
  const sockets = new Set<Socket>();
  const silent = createTcpServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  const port = await listen(silent);
  const gw = await gatewayFor(`https://127.0.0.1:${port}/v1`, {}, { connectMs: 300, firstByteMs: 10_000 });
  try {
    const start = performance.now();
    const err = await apiErrorOf(clientOf(gw).chat.completions.create({ model: "m", messages: MESSAGES }));
    const ms = performance.now() - start;
    assert.equal(err.status, 504);
    assert.match(err.message, /did not answer in time \(connect\)/);
    assert.equal(sockets.size, 2, "one connection per attempt (maxAttempts 2)");
    // undici checks its timers on a coarse tick, so each 300 ms wait can last up to ~1.3 s.
    assert.ok(ms >= 600 && ms < 5000, `two 300 ms connect timeouts took ${ms} ms`);
  } finally {
    await gw.stop();
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test("kept-alive connections the upstream closes while idle: the next request opens a new one", async () => {
  const seen = { requests: 0, auth: [] as string[] };
  // It promises 60 s of keep-alive but closes an idle connection after 100 ms, as some proxies do:
  // the gateway must notice the close and not send the next request into a dead socket.
  const idleClose = new Map<Socket, NodeJS.Timeout>();
  const server = createHttpServer((req, res) => {
    clearTimeout(idleClose.get(req.socket));
    res.setHeader("keep-alive", "timeout=60");
    res.once("finish", () => idleClose.set(req.socket, setTimeout(() => req.socket.destroy(), 100)));
    answer(req, res, seen);
  });
  let connections = 0;
  server.on("connection", () => connections++);
  const gw = await gatewayFor(`http://127.0.0.1:${await listen(server)}/v1`);
  try {
    const client = clientOf(gw);
    for (let i = 0; i < 3; i++) {
      const r = await client.chat.completions.create({ model: "m", messages: MESSAGES });
      assert.equal(r.choices[0]!.message.content, "hello over the wire");
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.equal(seen.requests, 3, "each answered at the first attempt");
    assert.equal(connections, 3);
    // Back to back, one connection serves them all.
    for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: "m", messages: MESSAGES });
    assert.equal(connections, 4);
  } finally {
    await gw.stop();
    server.closeAllConnections();
    server.close();
  }
});
