/**
 * McpHttpEndpoint on a real node:http server on 127.0.0.1, with an SDK McpServer per session,
 * driven by raw HTTP and by the SDK's Client: the checks in order (Host/Origin, then key), sessions
 * bound to their caller, the cap and the idle timeout (abandoned sessions do not pile up),
 * resumption of a broken stream with Last-Event-ID, and close() ending streams.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { BoundedEventStore, McpHttpEndpoint, refusal, type EndpointOptions } from "../src/index.ts";

const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
const HEADERS = { "content-type": "application/json", accept: "application/json, text/event-stream" };

const started: { http: Server; endpoint: McpHttpEndpoint<{ id: string }> }[] = [];
after(async () => {
  for (const s of started) {
    await s.endpoint.close();
    s.http.closeAllConnections();
    s.http.close();
  }
});

function mcpServer(): McpServer {
  const server = new McpServer({ name: "endpoint-test", version: "1.0.0" });
  server.registerTool("echo", { description: "Echo", inputSchema: {} }, async () => ({ content: [{ type: "text", text: "echoed" }] }));
  return server;
}

async function serve(opts: Partial<EndpointOptions<{ id: string }>> = {}) {
  const endpoint = new McpHttpEndpoint<{ id: string }>({
    realm: "test",
    loopback: true,
    allowedOrigins: [],
    authenticate: (req) => {
      const key = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      return key === "key-a" || key === "key-b" ? { id: key } : undefined;
    },
    createServer: () => mcpServer(),
    idleMs: 60_000,
    maxSessions: 100,
    ...opts,
  });
  const http = createServer((req, res) => void endpoint.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  started.push({ http, endpoint });
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  return { endpoint, url };
}

const init = (url: string, key = "key-a") =>
  fetch(url, { method: "POST", headers: { ...HEADERS, authorization: `Bearer ${key}` }, body: JSON.stringify(INIT) });

describe("refusal (Host and Origin)", () => {
  const req = (headers: Record<string, string>) => ({ headers }) as never;
  test("loopback: only loopback names in Host, any port", () => {
    for (const host of ["localhost", "localhost:3000", "127.0.0.1:9", "[::1]:3000", "LOCALHOST:1"]) assert.equal(refusal(req({ host }), { loopback: true, allowedOrigins: [] }), undefined, host);
    for (const host of ["evil.example", "evil.example:3000", "127.0.0.1.evil.example", ""]) assert.match(refusal(req({ host }), { loopback: true, allowedOrigins: [] }) ?? "", /localhost/, host);
  });
  test("Origin: absent, the server's own, or allowed; any other is refused", () => {
    const policy = { loopback: false, allowedOrigins: ["https://app.example.com"] };
    assert.equal(refusal(req({ host: "gw.example:8080" }), policy), undefined);
    assert.equal(refusal(req({ host: "gw.example:8080", origin: "http://gw.example:8080" }), policy), undefined);
    assert.equal(refusal(req({ host: "gw.example", origin: "https://app.example.com/" }), policy), undefined);
    assert.match(refusal(req({ host: "gw.example:8080", origin: "http://gw.example:9090" }), policy) ?? "", /origin/);
    assert.match(refusal(req({ host: "gw.example", origin: "null" }), policy) ?? "", /origin/);
  });
});

describe("BoundedEventStore", () => {
  test("replays the events of the same stream after the given one, and keeps only the newest", async () => {
    const store = new BoundedEventStore(3);
    const msg = (n: number) => ({ jsonrpc: "2.0" as const, method: `m${n}` });
    const a1 = await store.storeEvent("a", msg(1));
    await store.storeEvent("b", msg(2));
    await store.storeEvent("a", msg(3));
    const replayed: string[] = [];
    assert.equal(await store.replayEventsAfter(a1, { send: async (_id, m) => void replayed.push((m as { method: string }).method) }), "a");
    assert.deepEqual(replayed, ["m3"]);
    await store.storeEvent("a", msg(4));
    assert.equal(store.size, 3);
    assert.equal(await store.getStreamIdForEventId(a1), undefined, "the oldest went");
  });
});

describe("sessions", () => {
  test("an initialize opens a session; another key gets 404 for it; DELETE ends it", async () => {
    const { url } = await serve();
    const res = await init(url);
    assert.equal(res.status, 200);
    const id = res.headers.get("mcp-session-id")!;
    const list = (key: string) =>
      fetch(url, { method: "POST", headers: { ...HEADERS, authorization: `Bearer ${key}`, "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" }, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }) });
    assert.equal((await list("key-b")).status, 404);
    assert.equal((await list("key-a")).status, 200);
    const del = await fetch(url, { method: "DELETE", headers: { authorization: "Bearer key-a", "mcp-session-id": id, "mcp-protocol-version": "2025-06-18" } });
    assert.equal(del.status, 200);
    assert.equal((await list("key-a")).status, 404);
  });

  test("the order of the checks: Host before the key, the key before the session", async () => {
    const { url } = await serve();
    const origin = await fetch(url, { method: "POST", headers: { ...HEADERS, origin: "http://evil.example" }, body: JSON.stringify(INIT) });
    assert.equal(origin.status, 403, "no key, but a foreign page: refused as the page");
    const nokey = await fetch(url, { method: "POST", headers: HEADERS, body: JSON.stringify(INIT) });
    assert.equal(nokey.status, 401);
    assert.equal(nokey.headers.get("www-authenticate"), 'Bearer realm="test"');
    const bad = await fetch(url, { method: "POST", headers: { ...HEADERS, authorization: "Bearer key-a" }, body: "{not json" });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: number } }).error.code, -32700);
  });

  test("10,000 sessions opened and abandoned: never more than maxSessions; the evicted answer 404", { timeout: 120_000 }, async () => {
    const { url, endpoint } = await serve({ maxSessions: 100 });
    const ids: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const res = await init(url);
      assert.equal(res.status, 200);
      ids.push(res.headers.get("mcp-session-id")!);
      await res.body?.cancel();
      assert.ok(endpoint.sessionCount <= 100, `${endpoint.sessionCount} sessions`);
    }
    const first = await fetch(url, { method: "POST", headers: { ...HEADERS, authorization: "Bearer key-a", "mcp-session-id": ids[0]!, "mcp-protocol-version": "2025-06-18" }, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "ping" }) });
    assert.equal(first.status, 404);
  });

  test("an idle session ends after idleMs; one in use does not", async () => {
    const { url, endpoint } = await serve({ idleMs: 300 });
    const client = new Client({ name: "t", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: "Bearer key-a" } } }));
    const abandoned = await init(url);
    await abandoned.body?.cancel();
    assert.equal(endpoint.sessionCount, 2);
    await new Promise((r) => setTimeout(r, 1200));
    // The SDK client holds its GET stream open: that session is alive; the abandoned one is gone.
    assert.equal(endpoint.sessionCount, 1);
    const result = (await client.callTool({ name: "echo", arguments: {} })) as { content: { text: string }[] };
    assert.equal(result.content[0]?.text, "echoed");
    await client.close();
  });

  test("a stream that breaks mid-call is not a cancellation: GET with Last-Event-ID gets the rest, result included", async () => {
    const { url } = await serve({
      createServer: () => {
        const server = new McpServer({ name: "resume", version: "1" }, { capabilities: { logging: {} } });
        server.registerTool("slow", { description: "Three steps, then a result", inputSchema: {} }, async (_args, extra) => {
          for (let i = 1; i <= 3; i++) {
            await extra.sendNotification({ method: "notifications/message", params: { level: "info", data: `step ${i}` } });
            await new Promise((r) => setTimeout(r, 200));
          }
          return { content: [{ type: "text", text: "finished" }] };
        });
        return server;
      },
    });
    const version = "2025-06-18";
    const opened = await init(url);
    const id = opened.headers.get("mcp-session-id")!;
    await opened.text();
    const headers = { ...HEADERS, authorization: "Bearer key-a", "mcp-session-id": id, "mcp-protocol-version": version };
    await fetch(url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
    const stop = new AbortController();
    const call = await fetch(url, { method: "POST", headers, signal: stop.signal, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "slow", arguments: {} } }) });
    const reader = call.body!.getReader();
    let first = "";
    while (!first.includes("step 1")) first += new TextDecoder().decode((await reader.read()).value);
    const lastId = [...first.matchAll(/^id: (\S+)$/gm)].at(-1)![1]!;
    stop.abort();
    await new Promise((r) => setTimeout(r, 800));
    const resumed = await fetch(url, { method: "GET", headers: { accept: "text/event-stream", authorization: "Bearer key-a", "mcp-session-id": id, "mcp-protocol-version": version, "last-event-id": lastId } });
    assert.equal(resumed.status, 200);
    const rest = resumed.body!.getReader();
    let text = "";
    while (!text.includes("finished")) text += new TextDecoder().decode((await rest.read()).value);
    await rest.cancel();
    assert.ok(!text.includes("step 1"), "nothing twice");
    assert.match(text, /step 2[\s\S]*step 3[\s\S]*"finished"/);
  });

  test("close() ends every session, and the endpoint then answers 503", async () => {
    const { url, endpoint } = await serve();
    const client = new Client({ name: "t", version: "1" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: "Bearer key-a" } } }));
    await endpoint.close();
    assert.equal(endpoint.sessionCount, 0);
    const after = await fetch(url, { method: "POST", headers: { ...HEADERS, authorization: "Bearer key-a" }, body: JSON.stringify(INIT) });
    assert.equal(after.status, 503);
    await client.close();
  });
});
