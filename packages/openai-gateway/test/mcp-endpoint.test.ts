/**
 * The gateway's /mcp over Streamable HTTP: the gateway as a process with real MCP servers behind it
 * (server-everything over stdio, and a fixture that adds tools at runtime), reached by the MCP SDK's
 * Client, the MCP Inspector CLI, mcp-remote, the AI SDK, raw HTTP and the official conformance suite.
 * What a team's agent sees: chat_completion and list_models (answered by the gateway as that key),
 * every tool its key is granted, under `{server}__{tool}`, called through the gateway with
 * progress and cancellation relayed and list changes announced; nothing for a key without a grant;
 * 401 without a key; sessions bound to their key; Host and Origin checked.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { runConformance, runToExit, SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { createMCPClient } from "@ai-sdk/mcp";
import { fixture, PACKAGE_DIR } from "./fixtures/registry-harness.ts";

const T = { timeout: 30_000 };
const UPSTREAM_KEY = "sk-mcp-endpoint-upstream-0123456789";
/** The gateway's own tools, there for every key that may use a model. */
const MODEL_TOOLS = ["chat_completion", "list_models"];
const MCP_REMOTE = join(dirname(createRequire(import.meta.url).resolve("mcp-remote/package.json")), "dist/proxy.js");
const ALICE = "gw-mcp-alice-key-0123456789";
const BOB = "gw-mcp-bob-key-0123456789";
const CAROL = "gw-mcp-carol-key-0123456789";
const ACCEPT = { "content-type": "application/json", accept: "application/json, text/event-stream" };
const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
const mcpServers = {
  everything: { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] },
  changing: { command: process.execPath, args: [fixture("list-changed-server")] },
};

let gw: GatewayProcess;
let open: GatewayProcess;
let up: FakeUpstream;

before(async () => {
  up = await startFakeUpstream();
  [gw, open] = await Promise.all([
    startGateway({
      env: { ALICE_KEY: ALICE, BOB_KEY: BOB, CAROL_KEY: CAROL, UPSTREAM_KEY },
      config: {
        providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
        passthrough: "fake",
        clients: [
          { name: "alice", keyEnv: "ALICE_KEY", tools: ["*"] },
          { name: "bob", keyEnv: "BOB_KEY", tools: ["everything/echo"] },
          { name: "carol", keyEnv: "CAROL_KEY", models: ["gpt-4o-mini"] },
        ],
        mcpServers,
      },
    }),
    // No keys, on loopback: what the conformance suite (which cannot send a key) can reach.
    startGateway({ config: { mcpServers: { everything: mcpServers.everything } } }),
  ]);
  await Promise.all([waitForMcpServers(gw), waitForMcpServers(open)]);
});
after(async () => {
  await Promise.all([gw?.stop(), open?.stop()]);
  await up?.close();
});

async function connect(key: string | undefined, server = gw) {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.origin}/mcp`), { requestInit: { headers: key ? { authorization: `Bearer ${key}` } : {} } });
  const client = new Client({ name: "gateway-mcp-test", version: "0.0.0" });
  await client.connect(transport, { timeout: 15_000 });
  return { client, transport };
}
const text = (result: unknown) => ((result as { content: { type: string; text?: string }[] }).content ?? []).map((c) => c.text ?? "").join("");

describe("one MCP server for every tool a key may use", () => {
  test("a key with every tool: both servers' tools, named {server}__{tool}, callable", T, async () => {
    const { client } = await connect(ALICE);
    try {
      assert.equal(client.getServerVersion()?.name, "mcpgw");
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes("everything__echo") && names.includes("everything__get-sum") && names.includes("changing__add_tool"), names.join(", "));
      assert.equal(text(await client.callTool({ name: "everything__echo", arguments: { message: "through the gateway" } })), "Echo: through the gateway");
      const sum = await client.callTool({ name: "everything__get-sum", arguments: { a: 20, b: 22 } });
      assert.match(text(sum), /42/);
    } finally {
      await client.close();
    }
  });

  test("a key granted one tool sees and calls only that one; a key with no grant sees none", T, async () => {
    const bob = await connect(BOB);
    const carol = await connect(CAROL);
    try {
      assert.deepEqual((await bob.client.listTools()).tools.map((t) => t.name), [...MODEL_TOOLS, "everything__echo"]);
      await assert.rejects(bob.client.callTool({ name: "everything__get-sum", arguments: { a: 1, b: 2 } }), /Unknown tool/);
      assert.deepEqual((await carol.client.listTools()).tools.map((t) => t.name), MODEL_TOOLS, "models, but no MCP server's tools");
    } finally {
      await bob.client.close();
      await carol.client.close();
    }
  });

  test("the servers' prompts as {server}__{prompt} and their resources under their own URIs, for a key granted the whole server", T, async () => {
    const alice = await connect(ALICE);
    const bob = await connect(BOB);
    try {
      const prompts = (await alice.client.listPrompts()).prompts;
      const prompt = prompts.find((p) => p.name.startsWith("everything__") && !(p.arguments ?? []).some((a) => a.required));
      assert.ok(prompt, prompts.map((p) => p.name).join(", "));
      const got = await alice.client.getPrompt({ name: prompt.name });
      assert.ok(got.messages.length > 0);
      const resources = (await alice.client.listResources()).resources;
      const resource = resources.find((r) => r.name.startsWith("everything__"));
      assert.ok(resource, resources.map((r) => r.name).join(", "));
      assert.doesNotMatch(resource.uri, /everything__/, "the URI is the server's own");
      const read = await alice.client.readResource({ uri: resource.uri });
      assert.equal(read.contents[0]?.uri, resource.uri);
      // A key granted one tool of the server gets none of its prompts or resources.
      assert.deepEqual((await bob.client.listPrompts()).prompts, []);
      assert.deepEqual((await bob.client.listResources()).resources, []);
      await assert.rejects(bob.client.getPrompt({ name: prompt.name }), /Unknown prompt/);
    } finally {
      await alice.client.close();
      await bob.client.close();
    }
  });

  test("a server's log messages reach the sessions whose key reaches it, named after the server", { timeout: 45_000 }, async () => {
    const alice = await connect(ALICE);
    const carol = await connect(CAROL);
    const heard: { logger?: string }[] = [];
    const carolHeard: unknown[] = [];
    alice.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void heard.push(n.params));
    carol.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void carolHeard.push(n.params));
    try {
      await alice.client.setLoggingLevel("debug");
      await carol.client.setLoggingLevel("debug");
      // server-everything then logs at random levels every 5 s, on its connection with the gateway.
      await alice.client.callTool({ name: "everything__toggle-simulated-logging", arguments: {} });
      const end = Date.now() + 30_000;
      while (!heard.some((h) => h.logger?.startsWith("everything")) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      assert.ok(heard.some((h) => h.logger?.startsWith("everything")), JSON.stringify(heard));
      assert.deepEqual(carolHeard.filter((h) => (h as { logger?: string }).logger?.startsWith("everything")), [], "a key that reaches no tool of the server hears nothing of it");
    } finally {
      await alice.client.callTool({ name: "everything__toggle-simulated-logging", arguments: {} }).catch(() => {});
      await alice.client.close();
      await carol.client.close();
    }
  });

  test("chat_completion and list_models, answered by the gateway itself as the calling key", T, async () => {
    const { client } = await connect(CAROL);
    try {
      const listed = (await client.callTool({ name: "list_models", arguments: {} })) as unknown as { structuredContent: { models: { id: string }[] } };
      assert.deepEqual(listed.structuredContent.models.map((m) => m.id), ["gpt-4o-mini"], "exactly the models this key may use");
      const before = up.requests.length;
      const answer = await client.callTool({ name: "chat_completion", arguments: { prompt: "hello from /mcp", model: "gpt-4o-mini" } });
      assert.equal(text(answer), "echo: hello from /mcp");
      const sent = up.requests.slice(before).find((r) => r.path === "/v1/chat/completions")!;
      assert.equal(sent.headers.authorization, `Bearer ${UPSTREAM_KEY}`, "the upstream got the gateway's key, never the client's");
      // Streamed when progress is asked for: the text's growth, then the same answer.
      up.enqueue("/v1/chat/completions", { kind: "slow-stream", chunkDelayMs: 50 });
      const progress: number[] = [];
      const streamed = await client.callTool({ name: "chat_completion", arguments: { prompt: "one two three", model: "gpt-4o-mini" } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      assert.equal(text(streamed), "echo: one two three");
      assert.ok(progress.length >= 2, progress.join(","));
      const unknown = await client.callTool({ name: "chat_completion", arguments: { prompt: "x", model: "no-such-model" } });
      assert.equal(unknown.isError, true);
      assert.match(text(unknown), /404.*list_models/, "a model the key may not use: the gateway's 404, in words");
      await assert.rejects(client.callTool({ name: "chat_completion", arguments: {} }), /prompt|messages/);
    } finally {
      await client.close();
    }
  });

  test("progress from the backend reaches the client; cancelling cancels the backend's call", { timeout: 60_000 }, async () => {
    const { client } = await connect(ALICE);
    try {
      // Read off the wire: the SDK's own client may drop a progress notification that arrives with
      // its result (it handles the result first), which is the very thing checked here.
      for (let i = 0; i < 3; i++) {
        const { progress, result } = await rawCall(ALICE, "everything__trigger-long-running-operation", { duration: 0.4, steps: 4 }, `token-${i}`);
        assert.deepEqual(progress, [1, 2, 3, 4], "every step, in order, before the result");
        assert.match(JSON.stringify(result), /completed/i);
      }

      const stop = new AbortController();
      const call = client.callTool({ name: "everything__trigger-long-running-operation", arguments: { duration: 20, steps: 20 } }, undefined, { signal: stop.signal, onprogress: () => stop.abort() });
      await assert.rejects(call);
      const logged = await waitForLine(gw, /"tool":"trigger-long-running-operation".*"outcome":"cancelled"/);
      assert.ok(logged);
    } finally {
      await client.close();
    }
  });

  test("a backend's new tool: the client hears tools/list_changed and then lists it", T, async () => {
    const { client } = await connect(ALICE);
    try {
      let changed = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
      await client.callTool({ name: "changing__add_tool", arguments: { name: "fresh_tool" } });
      const end = Date.now() + 10_000;
      while (changed === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.ok(changed > 0, "no notifications/tools/list_changed");
      const names = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes("changing__fresh_tool"), names.join(", "));
    } finally {
      await client.close();
    }
  });

  test("the MCP Inspector CLI, as a user checks an endpoint by hand", { timeout: 60_000 }, async () => {
    const run = await runToExit(
      "npx",
      ["@modelcontextprotocol/inspector", "--cli", `${gw.origin}/mcp`, "--transport", "http", "--header", `Authorization: Bearer ${BOB}`, "--method", "tools/call", "--tool-name", "everything__echo", "--tool-arg", "message=from the inspector"],
      { cwd: PACKAGE_DIR, env: { PATH: `${PACKAGE_DIR}../../node_modules/.bin:${process.env.PATH ?? ""}`, npm_config_offline: "true" }, stdio: ["ignore", "pipe", "pipe"] },
      45_000,
      "inspector",
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).content[0].text, "Echo: from the inspector");
  });
});

describe("other MCP clients", () => {
  test("mcp-remote, the stdio-to-HTTP bridge Claude Desktop users run, with a bearer header", { timeout: 60_000 }, async () => {
    const home = mkdtempSync(join(tmpdir(), "mcp-remote-home-"));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [MCP_REMOTE, `${gw.origin}/mcp`, "--header", `Authorization:Bearer ${BOB}`],
      // Its token store lives under HOME: a temporary one, not the user's.
      env: { PATH: process.env.PATH ?? "", HOME: home },
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (d: Buffer) => (stderr += d));
    const client = new Client({ name: "via-mcp-remote", version: "0.0.0" });
    try {
      await client.connect(transport, { timeout: 30_000 });
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), [...MODEL_TOOLS, "everything__echo"], stderr);
      assert.equal(text(await client.callTool({ name: "everything__echo", arguments: { message: "bridged" } })), "Echo: bridged");
    } finally {
      await client.close();
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("the AI SDK's MCP client (@ai-sdk/mcp): its tools, and one executed", T, async () => {
    const client = await createMCPClient({ transport: { type: "http", url: `${gw.origin}/mcp`, headers: { authorization: `Bearer ${ALICE}` } } });
    try {
      const tools = await client.tools();
      assert.ok("everything__get-sum" in tools, Object.keys(tools).join(", "));
      const result = (await tools["everything__get-sum"]!.execute!({ a: 2, b: 3 }, { toolCallId: "call-1", messages: [], context: {} })) as { content: { text: string }[] };
      assert.match(result.content[0]!.text, /5/);
    } finally {
      await client.close();
    }
  });
});

describe("who may use it", () => {
  test("no key or a wrong one: 401 with WWW-Authenticate, and no OAuth metadata", T, async () => {
    for (const headers of [{}, { authorization: "Bearer gw-wrong-0123456789" }] as Record<string, string>[]) {
      const res = await fetch(`${gw.origin}/mcp`, { method: "POST", headers: { ...ACCEPT, ...headers }, body: JSON.stringify(INIT) });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("www-authenticate"), 'Bearer realm="mcpgw"');
    }
    assert.equal((await fetch(`${gw.origin}/.well-known/oauth-protected-resource`)).status, 404);
  });

  test("a session opened by one key does not exist for another", T, async () => {
    const { client, transport } = await connect(ALICE);
    try {
      const res = await fetch(`${gw.origin}/mcp`, {
        method: "POST",
        headers: { ...ACCEPT, authorization: `Bearer ${BOB}`, "mcp-session-id": transport.sessionId!, "mcp-protocol-version": "2025-06-18" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }),
      });
      assert.equal(res.status, 404);
    } finally {
      await client.close();
    }
  });

  test("a page of another origin: 403", T, async () => {
    const res = await fetch(`${gw.origin}/mcp`, { method: "POST", headers: { ...ACCEPT, authorization: `Bearer ${ALICE}`, origin: "http://attacker.example" }, body: JSON.stringify(INIT) });
    assert.equal(res.status, 403);
  });
});

describe("shutdown", () => {
  test("SIGTERM with MCP streams open and a call in flight: the sessions end and the gateway exits at once, not after its grace period", { timeout: 60_000 }, async () => {
    const server = await startGateway({ config: { mcpServers: { everything: mcpServers.everything }, server: { shutdownGraceMs: 30_000 } } });
    await waitForMcpServers(server);
    const transport = new StreamableHTTPClientTransport(new URL(`${server.origin}/mcp`));
    const client = new Client({ name: "sigterm-test", version: "0.0.0" });
    await client.connect(transport, { timeout: 15_000 });
    const pending = client.callTool({ name: "everything__trigger-long-running-operation", arguments: { duration: 20, steps: 20 } }, undefined, { onprogress: () => {} }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 500));
    const started = performance.now();
    assert.equal(await server.stop(), 0);
    assert.ok(performance.now() - started < 10_000, `exited after ${Math.round(performance.now() - started)} ms`);
    await client.close().catch(() => {});
    assert.ok((await pending) instanceof Error, "the call in flight ended with the session");
  });
});

describe("the official conformance suite against /mcp", () => {
  for (const scenario of ["server-initialize", "ping", "tools-list", "server-sse-multiple-streams", "dns-rebinding-protection"]) {
    test(`conformance: ${scenario}`, { timeout: 60_000 }, async () => {
      const { code, checks, problems, output } = await runConformance(`${open.origin}/mcp`, scenario);
      assert.ok(checks.length > 0, output);
      assert.deepEqual(problems, [], output);
      assert.equal(code, 0, output);
    });
  }
});

/** One tools/call over raw HTTP in a new session: the progress values and the result, in the order the stream carried them. */
async function rawCall(key: string, name: string, args: object, progressToken: string): Promise<{ progress: number[]; result: unknown }> {
  const url = `${gw.origin}/mcp`;
  const auth = { authorization: `Bearer ${key}` };
  const opened = await fetch(url, { method: "POST", headers: { ...ACCEPT, ...auth }, body: JSON.stringify(INIT) });
  const headers = { ...ACCEPT, ...auth, "mcp-session-id": opened.headers.get("mcp-session-id")!, "mcp-protocol-version": "2025-06-18" };
  await opened.text();
  await fetch(url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
  const res = await fetch(url, { method: "POST", headers, body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name, arguments: args, _meta: { progressToken } } }) });
  const messages = (await res.text())
    .split("\n")
    .filter((l) => l.startsWith("data: ") && l.length > 6)
    .map((l) => JSON.parse(l.slice(6)) as { method?: string; params?: { progress: number; progressToken: string }; result?: unknown });
  const resultAt = messages.findIndex((m) => m.result !== undefined);
  assert.ok(resultAt >= 0, "a result");
  const progress = messages.slice(0, resultAt).filter((m) => m.method === "notifications/progress" && m.params?.progressToken === progressToken).map((m) => m.params!.progress);
  assert.ok(!messages.slice(resultAt + 1).some((m) => m.method === "notifications/progress"), "no progress after the result");
  await fetch(url, { method: "DELETE", headers });
  return { progress, result: messages[resultAt]!.result };
}

/** Waits for a log line of the gateway matching `pattern`. */
async function waitForLine(server: GatewayProcess, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const line = server.lines.find((l) => pattern.test(l));
    if (line) return line;
    if (Date.now() > end) assert.fail(`no log line matching ${pattern}:\n${server.lines.slice(-20).join("\n")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
