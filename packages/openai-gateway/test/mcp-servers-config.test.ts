/**
 * MCP servers as users configure them: a Claude Desktop `mcpServers` file given as MCP_CONFIG to a
 * gateway configured by the environment alone (the model `mcp-gateway` then has every tool), the
 * offline demo model using a real tool, a gateway that serves tools only (no providers), a required
 * server that never comes up (/ready 503, the rest still served), config mistakes stopping the start
 * with a message that names the field, and SIGTERM leaving no MCP server process behind.
 */
import assert from "node:assert/strict";
import { readFileSync, readdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { runGateway, SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import OpenAI from "openai";

const CLIENT_KEY = "gw-mcp-config-client-key";
const T = { timeout: 30_000 };
const dir = mkdtempSync(join(tmpdir(), "gw-mcp-config-"));
let up: FakeUpstream;

before(async () => {
  up = await startFakeUpstream();
});
after(async () => {
  await up?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A Claude Desktop config file (with its other keys, which the gateway ignores). */
function claudeDesktopConfig(servers: object): string {
  const file = join(dir, `claude_desktop_config-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ globalShortcut: "Ctrl+Space", mcpServers: servers }, null, 2));
  return file;
}

const everything = { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] };
const sdk = (g: GatewayProcess, apiKey = CLIENT_KEY) => new OpenAI({ apiKey, baseURL: g.baseURL, maxRetries: 0, timeout: 20_000 });

test("environment only plus MCP_CONFIG: the model mcp-gateway has every tool and runs on MCP_MODEL", T, async () => {
  const gw = await startGateway({
    env: { OPENAI_BASE_URL: up.url, OPENAI_API_KEY: "sk-upstream-for-mcp-gateway-0123", GATEWAY_API_KEYS: CLIENT_KEY, MCP_CONFIG: claudeDesktopConfig({ everything }), MCP_MODEL: "gpt-4o" },
  });
  try {
    await waitForMcpServers(gw);
    const models = (await sdk(gw).models.list()).data.map((m) => m.id);
    assert.ok(models.includes("mcp-gateway"), models.join(", "));
    up.reset();
    const answer = await sdk(gw).chat.completions.create({ model: "mcp-gateway", messages: [{ role: "user", content: 'CALL everything__echo {"message": "simple"}' }] });
    assert.equal(answer.choices[0]?.message.content, "done: Echo: simple");
    assert.equal(up.requests[0]?.body.model, "gpt-4o", "MCP_MODEL is what the upstream is asked for");
  } finally {
    await gw.stop();
  }
});

test("no upstream at all: the offline demo model calls a real tool when asked, and answers with its result", T, async () => {
  const gw = await startGateway({ env: { MCP_CONFIG: claudeDesktopConfig({ everything }) } });
  try {
    await waitForMcpServers(gw);
    const client = new OpenAI({ apiKey: "none", baseURL: gw.baseURL, maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: "mcp-gateway", messages: [{ role: "user", content: "use echo to say hello" }] });
    assert.equal(answer.choices[0]?.message.content, "[offline demo] The tool answered: Echo: use echo to say hello");
    let streamed = "";
    for await (const c of await client.chat.completions.create({ model: "mcp-gateway", stream: true, messages: [{ role: "user", content: "use echo to say hi" }] })) {
      streamed += c.choices[0]?.delta.content ?? "";
    }
    assert.match(streamed, /The tool answered: Echo: use echo to say hi/);
  } finally {
    await gw.stop();
  }
});

test("mcpServers and no providers: a gateway that serves tools only starts, lists its servers, and has no models", T, async () => {
  const gw = await startGateway({ env: { GATEWAY_API_KEYS: CLIENT_KEY }, config: { mcpServers: { everything } } });
  try {
    await waitForMcpServers(gw);
    const ready = (await (await fetch(`${gw.origin}/ready`)).json()) as { mcpServers: { name: string }[] };
    assert.deepEqual(ready.mcpServers.map((s) => s.name), ["everything"]);
    assert.deepEqual((await sdk(gw).models.list()).data, []);
  } finally {
    await gw.stop();
  }
});

test("a required server that never comes up: /ready is 503 naming it and its error; the gateway still serves models and the other servers", T, async () => {
  const gw = await startGateway({
    env: { GATEWAY_API_KEYS: CLIENT_KEY, UPSTREAM_KEY: "sk-upstream-required-test-01234" },
    config: {
      providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
      passthrough: "fake",
      mcpServers: { everything, broken: { command: join(dir, "no-such-command"), required: true } },
    },
  });
  try {
    const deadline = performance.now() + 15_000;
    let ready: { status: string; mcpServers: { name: string; state: string; lastError?: string }[] };
    let status: number;
    for (;;) {
      const res = await fetch(`${gw.origin}/ready`);
      status = res.status;
      ready = (await res.json()) as typeof ready;
      const broken = ready.mcpServers.find((s) => s.name === "broken");
      if ((broken?.state === "failed" && ready.mcpServers.find((s) => s.name === "everything")?.state === "ready") || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 503);
    const broken = ready.mcpServers.find((s) => s.name === "broken")!;
    assert.equal(broken.state, "failed");
    assert.ok(broken.lastError && broken.lastError.length > 0);
    assert.equal(ready.mcpServers.find((s) => s.name === "everything")?.state, "ready", "the other server is not held back");
    const answer = await sdk(gw).chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "still here" }] });
    assert.equal(answer.choices[0]?.message.content, "echo: still here");
  } finally {
    await gw.stop();
  }
});

test("config mistakes stop the start, naming the field", T, async () => {
  const expectError = async (config: object, ...patterns: RegExp[]) => {
    const file = join(dir, `bad-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(config));
    const { code, stderr } = await runGateway(["--port", "0", "--config", file], {});
    assert.equal(code, 1, stderr);
    for (const p of patterns) assert.match(stderr, p);
  };
  const provider = { fake: { type: "openai", baseUrl: up.url } };
  await expectError({ providers: provider, passthrough: "fake", mcpServers: { s: { args: ["x"] } } }, /mcpServers\.s\.command/);
  await expectError({ providers: provider, passthrough: "fake", mcpServers: { s: { type: "sse" } } }, /mcpServers\.s\.url/);
  await expectError({ providers: provider, passthrough: "fake", mcpServers: { "my.server": everything, my_server: everything } }, /my\.server/, /my_server/);
  await expectError({ providers: provider, passthrough: "fake", models: { a: { targets: "fake/m", tools: ["nope"] } }, mcpServers: { everything } }, /models\.a\.tools\[0\]/, /nope/);
  await expectError({ providers: provider, passthrough: "fake", mcpServers: { s: { command: "x", colour: "blue" } } }, /colour/);
  // A server named in the config file and in --mcp-config: named once, with both places.
  const mcpFile = claudeDesktopConfig({ everything });
  const file = join(dir, "both.json");
  writeFileSync(file, JSON.stringify({ providers: provider, passthrough: "fake", mcpServers: { everything } }));
  const { code, stderr } = await runGateway(["--port", "0", "--config", file, "--mcp-config", mcpFile], {});
  assert.equal(code, 1);
  assert.match(stderr, /mcpServers\.everything/);
  assert.ok(stderr.includes(mcpFile), stderr);
});

test("SIGTERM: the gateway ends every MCP server process it started, npx-started ones included", T, async () => {
  const gw = await startGateway({
    env: { GATEWAY_API_KEYS: CLIENT_KEY, npm_config_offline: "true" },
    config: { mcpServers: { direct: everything, viaNpx: { command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"], env: { npm_config_offline: "true" } } } },
  });
  await waitForMcpServers(gw, 25_000);
  const descendants = (pid: number): number[] => {
    const kids: number[] = [];
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      for (const k of text ? text.split(/\s+/).map(Number) : []) kids.push(k, ...descendants(k));
    }
    return kids;
  };
  const before = descendants(gw.proc.pid!);
  assert.ok(before.length >= 2, `expected MCP server processes under the gateway, found ${before.length}`);
  assert.equal(await gw.stop("SIGTERM"), 0);
  await new Promise((r) => setTimeout(r, 300));
  const alive = before.filter((pid) => {
    try {
      process.kill(pid, 0);
      return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
    } catch {
      return false;
    }
  });
  assert.deepEqual(alive, [], "processes left behind");
});
