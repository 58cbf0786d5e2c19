/**
 * The gateway serving HTTPS itself (server.tls), for deployments without a TLS-terminating proxy:
 * a private CA signs the gateway's certificate; the official SDK trusts that CA and talks to it,
 * whole and streamed; plain HTTP to the same port is refused; the certificate and key may be given
 * as file paths or as the PEM text itself (from the environment).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import OpenAI from "openai";
import { Agent, fetch as undiciFetch } from "undici";
import { configFor, runGateway, startGateway, type GatewayProcess, rawExchange } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-tls-upstream-key-0123456789";
const CLIENT_KEY = "gw-tls-client-key";
const T = { timeout: 30_000 };
const dir = mkdtempSync(join(tmpdir(), "gw-serve-tls-"));
const file = (name: string) => join(dir, name);

let up: FakeUpstream;
let ca: string;

/** A CA, and a certificate for localhost and 127.0.0.1 signed by it. */
function makeCertificates(): void {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "ignore", cwd: dir });
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mcpgw test CA", "-keyout", "ca.key", "-out", "ca.pem");
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(file("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem");
}

before(async () => {
  makeCertificates();
  ca = readFileSync(file("ca.pem"), "utf8");
  up = await startFakeUpstream();
});
after(async () => {
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The openai SDK trusting only the test CA, through undici's fetch. */
function sdkTrusting(baseURL: string): OpenAI {
  const dispatcher = new Agent({ connect: { ca } });
  return new OpenAI({
    apiKey: CLIENT_KEY,
    baseURL,
    maxRetries: 0,
    fetch: ((url: string, init: object) => undiciFetch(url, { ...init, dispatcher })) as unknown as typeof fetch,
  });
}

async function checkServes(gw: GatewayProcess): Promise<void> {
  assert.match(gw.origin, /^https:\/\/127\.0\.0\.1:\d+$/);
  const client = sdkTrusting(gw.baseURL);
  const whole = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "over tls" }] });
  assert.equal(whole.choices[0]?.message.content, "echo: over tls");
  let text = "";
  for await (const c of await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "streamed" }], stream: true })) {
    text += c.choices[0]?.delta.content ?? "";
  }
  assert.equal(text, "echo: streamed");
}

test("server.tls with file paths: the SDK reaches the gateway over HTTPS; plain HTTP on that port gets no answer", T, async () => {
  const gw = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
    config: configFor(up.url, { server: { tls: { cert: file("server.pem"), key: file("server.key") } } }),
  });
  try {
    await checkServes(gw);
    const plain = await rawExchange(gw.origin.replace("https:", "http:"), { head: "GET /health HTTP/1.1\r\nhost: x\r\n\r\n", timeoutMs: 3000 });
    assert.ok(!(plain.status >= 200 && plain.status < 300), "plain HTTP must not be served");
    // A client that does not trust the CA is refused by its own TLS check.
    await assert.rejects(fetch(`${gw.origin}/health`), /fetch failed/);
  } finally {
    await gw.stop();
  }
});

test("server.tls with the PEM text itself, from ${ENV}", T, async () => {
  const gw = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY, TLS_CERT: readFileSync(file("server.pem"), "utf8"), TLS_KEY: readFileSync(file("server.key"), "utf8") },
    config: configFor(up.url, { server: { tls: { cert: "${TLS_CERT}", key: "${TLS_KEY}" } } }),
  });
  try {
    await checkServes(gw);
  } finally {
    await gw.stop();
  }
});

test("a server.tls file that is missing, or a key that does not match the certificate: exit 1 naming the field", T, async () => {
  const missing = await runGatewayWith({ cert: file("nope.pem"), key: file("server.key") });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /server\.tls\.cert/);
  const mismatched = await runGatewayWith({ cert: file("server.pem"), key: file("ca.key") });
  assert.equal(mismatched.code, 1);
  assert.match(mismatched.stderr, /server\.tls/);
  assert.doesNotMatch(mismatched.stderr + missing.stderr, /PRIVATE KEY|\n\s+at /);
});

async function runGatewayWith(tls: object) {
  const config = file(`config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(config, JSON.stringify(configFor(up.url, { server: { tls } })));
  return runGateway(["--port", "0", "--config", config], { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY });
}
