/**
 * The gateway's /mcp over Streamable HTTP: the gateway as a process with real MCP servers behind it
 * (server-everything over stdio, and a fixture that adds tools at runtime), reached by the MCP SDK's
 * Client, the MCP Inspector CLI, raw HTTP and the official conformance suite. What a team's agent
 * sees: every tool its key is granted, under `{server}__{tool}`, called through the gateway with
 * progress and cancellation relayed and list changes announced; nothing for a key without a grant;
 * 401 without a key; sessions bound to their key; Host and Origin checked.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runConformance, runToExit, SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { fixture, PACKAGE_DIR } from "./fixtures/registry-harness.ts";

const T = { timeout: 30_000 };
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

before(async () => {
  [gw, open] = await Promise.all([
    startGateway({
      env: { ALICE_KEY: ALICE, BOB_KEY: BOB, CAROL_KEY: CAROL },
      config: {
        clients: [
          { name: "alice", keyEnv: "ALICE_KEY", tools: ["*"] },
          { name: "bob", keyEnv: "BOB_KEY", tools: ["everything/echo"] },
          { name: "carol", keyEnv: "CAROL_KEY" },
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
      assert.deepEqual((await bob.client.listTools()).tools.map((t) => t.name), ["everything__echo"]);
      await assert.rejects(bob.client.callTool({ name: "everything__get-sum", arguments: { a: 1, b: 2 } }), /Unknown tool/);
      assert.deepEqual((await carol.client.listTools()).tools, []);
    } finally {
      await bob.client.close();
      await carol.client.close();
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
