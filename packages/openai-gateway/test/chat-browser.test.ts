/**
 * The chat API from a web page of another origin, in a real browser (Debian's chromium, installed
 * by scripts/browser-tools.sh when missing, driven by playwright-core): what server.cors.origins is
 * for. A page on an allowed origin sends a message with its key (a preflighted request), reads the
 * reply, the session header and the streamed events; a page on any other origin is refused by the
 * browser, as is every page when server.cors is not set. Behind the gateway: the fake upstream's
 * scripted model and server-everything, so the page's message runs a real MCP tool. The same for
 * the MCP endpoint /mcp: an allowed page may use it, any other page cannot (its Origin check).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import { chromium, type Browser, type Page } from "playwright-core";
import { PACKAGE_DIR } from "./fixtures/registry-harness.ts";

const MINUTE = 60_000;
const T = { timeout: MINUTE };
const KEY = "gw-chat-browser-key-0123456789";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync"];

let browser: Browser;
let allowedPage: Server;
let otherPage: Server;
let withCors: GatewayProcess;
let withoutCors: GatewayProcess;
let up: FakeUpstream;
/** The two sites' origins: the one server.cors.origins names, and a stranger. */
const origins = { allowed: "", other: "" };

/** A site of its own on 127.0.0.1: one empty page, so that the browser's origin is this server's. */
async function site(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>a chat page</title>"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

before(async () => {
  const { stdout } = await promisify(execFile)("bash", [join(PACKAGE_DIR, "../../scripts/browser-tools.sh")], { timeout: 10 * MINUTE });
  const executablePath = stdout.trim().split("\n").at(-1)!;
  const [allowed, other] = await Promise.all([site(), site()]);
  allowedPage = allowed.server;
  otherPage = other.server;
  up = await startFakeUpstream();
  const config = (extra: object) => ({
    providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "sk-chat-browser-upstream-0123456789" } },
    models: { assistant: { targets: "fake/gpt-4o-mini", tools: ["everything"] } },
    mcpServers: { everything: { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] } },
    chat: { store: ":memory:" },
    ...extra,
  });
  [browser, withCors, withoutCors] = await Promise.all([
    chromium.launch({ executablePath, headless: true, args: FLAGS }),
    // The trailing slash is how people copy an origin out of the address bar; it still matches.
    startGateway({ env: { GATEWAY_API_KEYS: KEY }, config: config({ server: { cors: { origins: [`${allowed.origin}/`] } } }) }),
    startGateway({ env: { GATEWAY_API_KEYS: KEY }, config: config({}) }),
  ]);
  await Promise.all([waitForMcpServers(withCors), waitForMcpServers(withoutCors)]);
  origins.allowed = allowed.origin;
  origins.other = other.origin;
}, { timeout: 12 * MINUTE });
after(async () => {
  await browser?.close();
  await Promise.all([withCors?.stop(), withoutCors?.stop()]);
  await up?.close();
  allowedPage?.close();
  otherPage?.close();
});

async function pageAt(origin: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(origin);
  return page;
}

/** What a page's script sees when it sends one message to `gateway` (whole, or streamed and read to the end). */
function sendFrom(page: Page, gateway: string, stream: boolean) {
  return page.evaluate(
    async ({ gateway, key, stream }) => {
      try {
        const res = await fetch(`${gateway}/chat`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          body: JSON.stringify({ message: 'CALL everything__echo {"message": "from a web page"}', stream }),
        });
        return { ok: true, status: res.status, session: res.headers.get("x-session-id"), type: res.headers.get("content-type"), text: await res.text() };
      } catch (err) {
        return { ok: false, error: String(err) };
      }
    },
    { gateway, key: KEY, stream },
  );
}

describe("POST /chat from a page of another origin", () => {
  test("an allowed origin: the reply, the x-session-id header, and then the session's history", T, async () => {
    const page = await pageAt(origins.allowed);
    const sent = await sendFrom(page, withCors.origin, false);
    assert.ok(sent.ok, sent.error);
    assert.equal(sent.status, 200, sent.text);
    const body = JSON.parse(sent.text!) as { response: string; session_id: string };
    assert.equal(body.response, "done: Echo: from a web page");
    assert.equal(sent.session, body.session_id, "the exposed header is readable by the page");
    const history = await page.evaluate(async ({ url, key }) => (await fetch(url, { headers: { authorization: `Bearer ${key}` } })).json(), { url: `${withCors.origin}/chat/${body.session_id}`, key: KEY });
    assert.equal((history as { messages: unknown[] }).messages.length, 4);
    // /v1 too, with the extra headers the openai SDK sends from a browser (x-stainless-*).
    const models = await page.evaluate(
      async ({ url, key }) => (await fetch(url, { headers: { authorization: `Bearer ${key}`, "x-stainless-lang": "js", "x-stainless-retry-count": "0" } })).status,
      { url: `${withCors.origin}/v1/models`, key: KEY },
    );
    assert.equal(models, 200);
    await page.context().close();
  });

  test("an allowed origin, streamed: the page reads the events as they come", T, async () => {
    const page = await pageAt(origins.allowed);
    const sent = await sendFrom(page, withCors.origin, true);
    assert.ok(sent.ok, sent.error);
    assert.match(sent.type ?? "", /^text\/event-stream/);
    const events = [...sent.text!.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.equal(events[0], "session");
    assert.ok(events.includes("tool") && events.includes("delta"), events.join(" "));
    assert.equal(events.at(-1), "done");
    await page.context().close();
  });

  test("another origin is refused by the browser; so is every origin when server.cors is not set", T, async () => {
    for (const [origin, gateway] of [
      [origins.other, withCors.origin],
      [origins.allowed, withoutCors.origin],
    ] as const) {
      const page = await pageAt(origin);
      const sent = await sendFrom(page, gateway, false);
      assert.equal(sent.ok, false, `${origin} -> ${gateway}`);
      assert.match(sent.error ?? "", /Failed to fetch/);
      await page.context().close();
    }
    // The preflight itself says so: no allow-origin for a stranger.
    const preflight = await fetch(`${withCors.origin}/chat`, {
      method: "OPTIONS",
      headers: { origin: origins.other, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), null);
    const allowed = await fetch(`${withCors.origin}/chat`, {
      method: "OPTIONS",
      headers: { origin: origins.allowed, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
    });
    assert.equal(allowed.headers.get("access-control-allow-origin"), origins.allowed);
    assert.match(allowed.headers.get("access-control-allow-headers") ?? "", /authorization/);
  });
});

/** What a page's script sees when it initializes an MCP session at `gateway`/mcp. */
function mcpFrom(page: Page, gateway: string) {
  return page.evaluate(
    async ({ gateway, key }) => {
      try {
        const res = await fetch(`${gateway}/mcp`, {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "page", version: "1" } } }),
        });
        return { ok: true, status: res.status, session: res.headers.get("mcp-session-id"), text: await res.text() };
      } catch (err) {
        return { ok: false, error: String(err) };
      }
    },
    { gateway, key: KEY },
  );
}

describe("the MCP endpoint from a web page", () => {
  test("an allowed origin initializes a session and reads its id; another origin cannot use it", T, async () => {
    const allowed = await pageAt(origins.allowed);
    const ok = await mcpFrom(allowed, withCors.origin);
    assert.ok(ok.ok, ok.error);
    assert.equal(ok.status, 200);
    assert.match(ok.session ?? "", /^[0-9a-f-]{36}$/, "mcp-session-id is readable by the page");
    assert.match(ok.text ?? "", /"serverInfo"/);
    await allowed.context().close();
    for (const [origin, gateway] of [
      [origins.other, withCors.origin],
      [origins.allowed, withoutCors.origin],
    ] as const) {
      const page = await pageAt(origin);
      const refused = await mcpFrom(page, gateway);
      assert.equal(refused.ok, false, `${origin} -> ${gateway}: ${JSON.stringify(refused)}`);
      await page.context().close();
    }
    // And without a browser to enforce CORS, the gateway itself refuses a foreign Origin.
    const forged = await fetch(`${withCors.origin}/mcp`, {
      method: "POST",
      headers: { origin: origins.other, authorization: `Bearer ${KEY}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
    });
    assert.equal(forged.status, 403);
  });
});
