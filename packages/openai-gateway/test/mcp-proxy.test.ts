/**
 * /mcp/{server}: one of the gateway's MCP servers re-served as it is. The proof that the relay is
 * faithful: the official conformance suite, the whole of it (pending scenarios too), run against
 * the suite's reference fixture (test-support's, over Streamable HTTP) directly and then through
 * the gateway's /mcp/fixture: every scenario gives the same checks both ways, none fails, and that
 * includes what a proxy must relay back to the client (sampling, elicitation), logging, progress,
 * resources, prompts, completions. Then a stdio server (server-everything) through /mcp/everything
 * with the SDK's Client, and what each key's grant lets it reach.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runConformanceSuite, SERVER_EVERYTHING, startConformanceFixture, startGateway, waitForMcpServers, type ConformanceFixture, type GatewayProcess } from "@mcpgw/test-support";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const ALICE = "gw-proxy-alice-key-0123456789";
const BOB = "gw-proxy-bob-key-0123456789";
const T = { timeout: 30_000 };
const SERVER_SECRET = "everything-secret-0123456789abcdef";

let fixture: ConformanceFixture;
let open: GatewayProcess;
let keyed: GatewayProcess;

before(async () => {
  fixture = await startConformanceFixture();
  // A credential in the server's env: what the server echoes of it must not reach a client.
  const mcpServers = { fixture: { url: fixture.url }, everything: { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"], env: { EVERYTHING_API_KEY: SERVER_SECRET } } };
  [open, keyed] = await Promise.all([
    // No keys, on loopback: the suite cannot send one.
    startGateway({ config: { mcpServers } }),
    startGateway({
      env: { ALICE_KEY: ALICE, BOB_KEY: BOB },
      config: { clients: [{ name: "alice", keyEnv: "ALICE_KEY", tools: ["*"] }, { name: "bob", keyEnv: "BOB_KEY", tools: ["everything/echo"] }], mcpServers },
    }),
  ]);
  await Promise.all([waitForMcpServers(open), waitForMcpServers(keyed)]);
});
after(async () => {
  await Promise.all([open?.stop(), keyed?.stop()]);
  await fixture?.close();
});

/** Each scenario's checks as `status id`, sorted: what two runs are compared by. */
const outcome = (scenarios: Map<string, { id: string; status: string }[]>) =>
  new Map([...scenarios].map(([name, checks]) => [name, checks.filter((c) => c.status !== "INFO").map((c) => `${c.status} ${c.id}`).sort()]));

describe("the conformance suite through /mcp/{server}", () => {
  test("the whole suite: the same checks through the gateway as against the fixture itself, and no failure", { timeout: 180_000 }, async () => {
    const direct = await runConformanceSuite(fixture.url);
    const relayed = await runConformanceSuite(`${open.origin}/mcp/fixture`);
    const a = outcome(direct.scenarios);
    const b = outcome(relayed.scenarios);
    assert.ok(a.size >= 32, `the suite ran ${a.size} scenarios:\n${direct.output}`);
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort(), "the same scenarios ran");
    for (const [name, checks] of a) assert.deepEqual(b.get(name), checks, `${name}: through the gateway\n${relayed.output}`);
    const failures = [...b].flatMap(([name, checks]) => checks.filter((c) => c.startsWith("FAILURE")).map((c) => `${name}: ${c}`));
    assert.deepEqual(failures, []);
    // The only warnings, both ways: server-sse-polling asks with protocol 2025-03-26, for which the
    // SDK (1.32) sends neither a priming event nor a retry field. The fixture's, not the relay's.
    const warnings = [...b].flatMap(([name, checks]) => checks.filter((c) => c.startsWith("WARNING")).map((c) => `${name}: ${c}`));
    assert.deepEqual(warnings.sort(), ["server-sse-polling: WARNING server-sse-priming-event", "server-sse-polling: WARNING server-sse-retry-field"]);
    assert.equal(relayed.code, 0, relayed.output);
  });
});

async function connect(path: string, key: string) {
  const client = new Client({ name: "proxy-test", version: "0.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${keyed.origin}${path}`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }), { timeout: 20_000 });
  return client;
}

describe("a stdio server re-served", () => {
  test("as it is: its own name, tool names, prompts and resources", T, async () => {
    const client = await connect("/mcp/everything", ALICE);
    try {
      assert.match(client.getServerVersion()?.name ?? "", /everything/);
      const tools = (await client.listTools()).tools.map((t) => t.name);
      assert.ok(tools.includes("echo") && tools.includes("get-sum"), tools.join(", "));
      const echoed = (await client.callTool({ name: "echo", arguments: { message: "unprefixed" } })) as { content: { text: string }[] };
      assert.equal(echoed.content[0]?.text, "Echo: unprefixed");
      const prompts = (await client.listPrompts()).prompts;
      assert.ok(prompts.length > 0);
      const resources = (await client.listResources()).resources;
      assert.ok(resources.length > 0);
      const read = await client.readResource({ uri: resources[0]!.uri });
      assert.ok(read.contents.length > 0);
    } finally {
      await client.close();
    }
  });

  test("what the server echoes of its own credentials is taken out, at /mcp/{server} as at /mcp", T, async () => {
    for (const [path, tool] of [["/mcp/everything", "get-env"], ["/mcp", "everything__get-env"]] as const) {
      const client = await connect(path, ALICE);
      try {
        const result = JSON.stringify(await client.callTool({ name: tool, arguments: {} }));
        assert.ok(result.includes("EVERYTHING_API_KEY"), `${path}: the server did list its env: ${result.slice(0, 200)}`);
        assert.ok(!result.includes(SERVER_SECRET), `${path}: the secret leaked`);
        assert.match(result, /\[redacted\]/);
      } finally {
        await client.close();
      }
    }
  });

  test("a key granted one tool: that tool only, and no prompts or resources; other servers do not exist for it", T, async () => {
    const client = await connect("/mcp/everything", BOB);
    try {
      assert.deepEqual((await client.listTools()).tools.map((t) => t.name), ["echo"]);
      await assert.rejects(client.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } }), /Unknown tool/);
      await assert.rejects(client.listPrompts(), /only some tools/);
    } finally {
      await client.close();
    }
    const other = await fetch(`${keyed.origin}/mcp/fixture`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${BOB}` },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }),
    });
    assert.equal(other.status, 404);
  });

  test("an unknown server: 404 in JSON-RPC's shape; no key: 401", T, async () => {
    const res = await fetch(`${keyed.origin}/mcp/nope`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${ALICE}` }, body: "{}" });
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /no MCP server 'nope'/);
    const nokey = await fetch(`${keyed.origin}/mcp/everything`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    assert.equal(nokey.status, 401);
  });
});
