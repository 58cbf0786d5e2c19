/**
 * openai-gateway-mcp over Streamable HTTP (`--transport http`), as a real process in front of the
 * real gateway (a process, over the fake upstream), driven by the MCP SDK's Client over
 * StreamableHTTPClientTransport and by raw HTTP where a test needs to send what no SDK would:
 * tools, the ask_model prompt with model completion, the models://list resource, progress and
 * cancellation; keys (401 with WWW-Authenticate, no OAuth metadata), sessions bound to their key,
 * DELETE, Host and Origin checks, the session cap, SIGTERM with a stream open.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { FakeUpstream } from "@mcpgw/fake-upstream";
import { rawExchange, runMcp, startGatewayOverFakeUpstream, startMcpHttp, textOf, type GatewayProcess, type McpHttpProcess } from "@mcpgw/test-support";
import { CompleteResultSchema } from "@modelcontextprotocol/sdk/types.js";

const CLIENT_KEY = "mcp-http-gateway-key-5e1d";
const UPSTREAM_KEY = "upstream-secret-http-0123456789";
const KEY_A = "mcp-http-key-a-0123456789";
const KEY_B = "mcp-http-key-b-0123456789";
const T = { timeout: 30_000 };
const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
const ACCEPT = { "content-type": "application/json", accept: "application/json, text/event-stream" };

let upstream: FakeUpstream;
let gateway: GatewayProcess;
let open: McpHttpProcess;
let keyed: McpHttpProcess;

before(async () => {
  ({ upstream, gateway } = await startGatewayOverFakeUpstream({ upstreamKey: UPSTREAM_KEY, clientKey: CLIENT_KEY, extra: { retry: { maxAttempts: 1 } } }));
  const env = { GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: CLIENT_KEY, DEFAULT_MODEL: "gpt-4o-mini" };
  [open, keyed] = await Promise.all([startMcpHttp({ env }), startMcpHttp({ env: { ...env, MCP_API_KEYS: `${KEY_A}, ${KEY_B}` } })]);
});
beforeEach(() => upstream.reset());
after(async () => {
  await Promise.all([open?.stop(), keyed?.stop()]);
  await gateway?.stop();
  await upstream?.close();
});

const post = (server: McpHttpProcess, body: unknown, headers: Record<string, string> = {}) =>
  fetch(server.url, { method: "POST", headers: { ...ACCEPT, ...headers }, body: JSON.stringify(body) });

describe("the SDK's Client over Streamable HTTP", () => {
  test("initialize, tools, a chat_completion through the gateway, list_models", T, async () => {
    const { client } = await open.connect();
    try {
      assert.equal(client.getServerVersion()?.name, "openai-gateway-mcp");
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ["chat_completion", "list_models"]);
      const answer = await client.callTool({ name: "chat_completion", arguments: { prompt: "hello over http" } });
      assert.equal(answer.isError, undefined, textOf(answer));
      assert.equal(textOf(answer), "echo: hello over http");
      const models = await client.callTool({ name: "list_models", arguments: {} });
      assert.match(textOf(models), /gpt-4o-mini/);
    } finally {
      await client.close();
    }
  });

  test("the prompt ask_model, its model argument completed from the gateway's list, and the resource models://list", T, async () => {
    const { client } = await open.connect();
    try {
      assert.ok(client.getServerCapabilities()?.prompts && client.getServerCapabilities()?.completions && client.getServerCapabilities()?.resources?.subscribe);
      const { prompts } = await client.listPrompts();
      const ask = prompts.find((p) => p.name === "ask_model");
      assert.deepEqual(ask?.arguments?.map((a) => [a.name, a.required ?? false]), [["question", true], ["model", false], ["system", false]]);
      const got = await client.getPrompt({ name: "ask_model", arguments: { question: "Why is the sky blue?", model: "gpt-4o-mini" } });
      const text = (got.messages[0]?.content as { text: string }).text;
      assert.match(text, /chat_completion/);
      assert.match(text, /"model":"gpt-4o-mini"/);
      assert.match(text, /Why is the sky blue\?/);

      const completed = await client.request(
        { method: "completion/complete", params: { ref: { type: "ref/prompt", name: "ask_model" }, argument: { name: "model", value: "gpt-4" } } },
        CompleteResultSchema,
      );
      assert.ok(completed.completion.values.length > 0, JSON.stringify(completed));
      assert.ok(completed.completion.values.every((v) => v.startsWith("gpt-4")), completed.completion.values.join(", "));
      // Exactly the gateway's models for this key that start so.
      const gatewayIds = ((await (await fetch(`${gateway.origin}/v1/models`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
      assert.deepEqual([...completed.completion.values].sort(), gatewayIds.filter((id) => id.startsWith("gpt-4")).sort());

      const { resources } = await client.listResources();
      assert.ok(resources.some((r) => r.uri === "models://list"));
      const read = await client.readResource({ uri: "models://list" });
      const listed = JSON.parse((read.contents[0] as { text: string }).text) as { models: { id: string }[] };
      assert.deepEqual(listed.models.map((m) => m.id).sort(), [...gatewayIds].sort());
    } finally {
      await client.close();
    }
  });

  test("progress notifications reach the client while a model streams; cancelling stops the upstream request", T, async () => {
    const { client } = await open.connect();
    try {
      upstream.enqueue("/v1/chat/completions", { kind: "slow-stream", chunkDelayMs: 100 });
      const progress: number[] = [];
      const answer = await client.callTool({ name: "chat_completion", arguments: { prompt: "one two three four" } }, undefined, {
        onprogress: (p) => progress.push(p.progress),
      });
      assert.equal(textOf(answer), "echo: one two three four");
      assert.ok(progress.length >= 2, `progress: ${progress.join(", ")}`);

      upstream.enqueue("/v1/chat/completions", { kind: "hang" });
      const stop = new AbortController();
      const call = client.callTool({ name: "chat_completion", arguments: { prompt: "never answered" } }, undefined, { signal: stop.signal });
      await upstream.waitForRequests(2);
      const request = upstream.requests.at(-1)!;
      stop.abort();
      await assert.rejects(call);
      // The cancellation went all the way: the gateway dropped its upstream request.
      await upstream.waitForClose(request, 5000);
      assert.equal(request.aborted, true);
    } finally {
      await client.close();
    }
  });
});

test("mcp-remote (the stdio-to-HTTP bridge Claude Desktop users run) with a bearer header", { timeout: 60_000 }, async () => {
  const home = mkdtempSync(join(tmpdir(), "mcp-remote-home-"));
  const remote = join(dirname(createRequire(import.meta.url).resolve("mcp-remote/package.json")), "dist/proxy.js");
  const transport = new StdioClientTransport({ command: process.execPath, args: [remote, keyed.url, "--header", `Authorization:Bearer ${KEY_A}`], env: { PATH: process.env.PATH ?? "", HOME: home }, stderr: "pipe" });
  const client = new Client({ name: "via-mcp-remote", version: "0.0.0" });
  try {
    await client.connect(transport, { timeout: 30_000 });
    assert.deepEqual((await client.listTools()).tools.map((t) => t.name).sort(), ["chat_completion", "list_models"]);
    assert.equal(textOf(await client.callTool({ name: "chat_completion", arguments: { prompt: "bridged" } })), "echo: bridged");
  } finally {
    await client.close();
    rmSync(home, { recursive: true, force: true });
  }
});

describe("keys", () => {
  test("no key or a wrong one: 401 with WWW-Authenticate Bearer, and no OAuth metadata to start a flow with", T, async () => {
    for (const headers of [{}, { authorization: "Bearer not-a-key" }] as Record<string, string>[]) {
      const res = await post(keyed, INIT, headers);
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="openai-gateway-mcp"');
      const body = (await res.json()) as { error: { code: number; message: string } };
      assert.match(body.error.message, /Authorization: Bearer/);
    }
    for (const path of ["/.well-known/oauth-protected-resource", "/.well-known/oauth-authorization-server"]) {
      assert.equal((await fetch(`${keyed.origin}${path}`)).status, 404, path);
    }
  });

  test("each key works; a session opened with one key does not exist for another", T, async () => {
    const a = await keyed.connect({ authorization: `Bearer ${KEY_A}` });
    try {
      assert.equal((await a.client.listTools()).tools.length, 2);
      const session = a.transport.sessionId!;
      const asB = await post(keyed, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { authorization: `Bearer ${KEY_B}`, "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" });
      assert.equal(asB.status, 404);
      const b = await keyed.connect({ authorization: `Bearer ${KEY_B}` });
      assert.equal((await b.client.listTools()).tools.length, 2);
      await b.client.close();
    } finally {
      await a.client.close();
    }
  });

  test("it refuses to listen beyond loopback without keys", T, async () => {
    const run = await runMcp(["--transport", "http", "--host", "0.0.0.0", "--port", "0"], { GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: CLIENT_KEY });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /refusing to listen on 0\.0\.0\.0 without keys.*MCP_API_KEYS/);
    const bad = await runMcp(["--transport", "carrier-pigeon"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /MCP_TRANSPORT \(--transport\) must be stdio or http/);
  });
});

describe("what the spec leaves to the server", () => {
  test("a Host that is not loopback, or a page of another origin: 403 before anything else", T, async () => {
    // fetch will not send a forged Host; a raw request shows what the server does with one.
    const body = JSON.stringify(INIT);
    const raw = await rawExchange(open.origin, {
      head: `POST /mcp HTTP/1.1\r\nHost: attacker.example\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      timeoutMs: 5000,
    });
    assert.equal(raw.status, 403, raw.body);
    assert.match(raw.body, /localhost/);
    const page = await post(open, INIT, { origin: "http://attacker.example" });
    assert.equal(page.status, 403);
    assert.match(((await page.json()) as { error: { message: string } }).error.message, /origin/);
    // The same request without those headers is answered: the 403s were the checks, not the request.
    assert.equal((await post(open, INIT)).status, 200);
  });

  test("DELETE ends a session: its id is then unknown (404)", T, async () => {
    const { client, transport } = await open.connect();
    const session = transport.sessionId!;
    await transport.terminateSession();
    const after = await post(open, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { "mcp-session-id": session, "mcp-protocol-version": "2025-06-18" });
    assert.equal(after.status, 404);
    await client.close();
  });

  test("a request without a session that is not an initialize: 400; an unknown method: 405", T, async () => {
    assert.equal((await post(open, { jsonrpc: "2.0", id: 2, method: "tools/list" })).status, 400);
    const put = await fetch(open.url, { method: "PUT", headers: ACCEPT, body: "{}" });
    assert.equal(put.status, 405);
    assert.match(put.headers.get("allow") ?? "", /POST/);
  });

  test("SIGTERM with a stream open: the process ends the stream and exits at once", T, async () => {
    const env = { GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: CLIENT_KEY };
    const server = await startMcpHttp({ env });
    const { client } = await server.connect();
    // The SDK client opens the standalone GET stream after initialize; a call keeps one open too.
    upstream.enqueue("/v1/chat/completions", { kind: "hang" });
    const pending = client.callTool({ name: "chat_completion", arguments: { prompt: "held open" } }).catch((e) => e);
    await upstream.waitForRequests(1);
    const started = performance.now();
    assert.equal(await server.stop(), 0);
    assert.ok(performance.now() - started < 5000, "exited at once, not after the grace period");
    assert.match(server.stderr(), /shutting down \(SIGTERM\)/);
    // The call in flight was cancelled with its session: the gateway dropped its upstream request.
    await upstream.waitForClose(upstream.requests[0]!, 5000);
    assert.equal(upstream.requests[0]!.aborted, true);
    // The client's call ends when the client gives up on the connection.
    await client.close().catch(() => {});
    assert.ok((await pending) instanceof Error);
  });
});
