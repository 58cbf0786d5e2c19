/**
 * End to end, the way a user runs it: the MCP SDK's Client spawns the built bin over stdio, the bin
 * calls the real gateway (a process), and the gateway forwards to a fake OpenAI upstream whose
 * recorded requests show what actually left the machine.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, beforeEach, describe, test } from "node:test";
import type { FakeUpstream } from "@mcpgw/fake-upstream";
import { startGateway, startGatewayOverFakeUpstream, type GatewayProcess, connectMcp, textOf, type McpProcess } from "@mcpgw/test-support";

const CLIENT_KEY = "mcp-client-key-7f3a9c";
const UPSTREAM_KEY = "upstream-secret-0123456789";
const T = { timeout: 30_000 };
const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

let upstream: FakeUpstream;
let gateway: GatewayProcess;
let mcp: McpProcess;

before(async () => {
  ({ upstream, gateway } = await startGatewayOverFakeUpstream({
    upstreamKey: UPSTREAM_KEY,
    clientKey: CLIENT_KEY,
    // One gateway attempt per call: the MCP server's own retries are what these tests count.
    extra: { retry: { maxAttempts: 1 } },
  }));
  mcp = await connectMcp({ env: { GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: CLIENT_KEY } });
});
beforeEach(() => upstream.reset());
after(async () => {
  await mcp?.close();
  await gateway?.stop();
  await upstream?.close();
});

/** What every error a user sees must hold to: no stack trace, no key. */
function assertCleanError(text: string, ...secrets: string[]): void {
  assert.doesNotMatch(text, /\n\s+at .+[:(]/, `stack trace in error text: ${text}`);
  assert.doesNotMatch(text, /\.(ts|js):\d+/, `source location in error text: ${text}`);
  for (const s of [CLIENT_KEY, UPSTREAM_KEY, ...secrets]) assert.ok(!text.includes(s), `secret in error text: ${text}`);
}

const chatRequests = () => upstream.requests.filter((r) => r.method === "POST" && r.path === "/v1/chat/completions");

describe("initialize and tools/list", () => {
  test("the server introduces itself with its name, version and capabilities", () => {
    const info = mcp.client.getServerVersion();
    assert.equal(info?.name, "openai-gateway-mcp");
    assert.equal(info?.version, VERSION);
    const caps = mcp.client.getServerCapabilities();
    assert.ok(caps?.logging, "logging capability");
    assert.ok(caps?.tools, "tools capability");
  });

  test("lists chat_completion and list_models with their annotations and output schemas", T, async () => {
    const { tools } = await mcp.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["chat_completion", "list_models"]);
    const chat = tools.find((t) => t.name === "chat_completion")!;
    const list = tools.find((t) => t.name === "list_models")!;

    assert.equal(chat.annotations?.readOnlyHint, true);
    assert.equal(chat.annotations?.openWorldHint, true);
    assert.equal(list.annotations?.readOnlyHint, true);
    assert.equal(list.annotations?.idempotentHint, true);
    for (const t of [chat, list]) {
      assert.ok(t.description && t.description.length > 20, `${t.name} has a description`);
      assert.equal(t.outputSchema?.type, "object", `${t.name} declares an outputSchema`);
    }
    assert.deepEqual(Object.keys(chat.outputSchema!.properties!).sort(), ["content", "finish_reason", "model", "usage"]);
    assert.deepEqual(Object.keys(list.outputSchema!.properties!), ["models"]);
    for (const p of ["prompt", "system", "messages", "model", "temperature", "max_tokens", "seed", "stop", "response_format"]) {
      assert.ok(chat.inputSchema.properties?.[p], `chat_completion input has ${p}`);
    }
    // One object schema per role, each naming its role and what it requires: a client can build a tool exchange from it.
    const items = (chat.inputSchema.properties?.messages as { items?: { oneOf?: any[]; anyOf?: any[] } }).items;
    const variants = items?.oneOf ?? items?.anyOf ?? [];
    const byRole = Object.fromEntries(variants.map((v) => [v.properties?.role?.const, v]));
    assert.deepEqual(Object.keys(byRole).sort(), ["assistant", "developer", "system", "tool", "user"], JSON.stringify(items));
    assert.deepEqual(byRole.tool.required.sort(), ["content", "role", "tool_call_id"]);
    assert.ok(byRole.assistant.properties.tool_calls, "assistant messages can carry tool_calls");
    assert.ok(!byRole.assistant.required.includes("content"), "an assistant message with tool_calls needs no content");
  });
});

describe("chat_completion", () => {
  test("prompt + system: the reply as text and structured content; the upstream got both messages and DEFAULT_MODEL", T, async () => {
    const result = await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "hello there world", system: "You are terse." } });
    assert.equal(result.isError, undefined);
    const sc = result.structuredContent as { model: string; content: string; finish_reason: string; usage: Record<string, number> };
    assert.equal(textOf(result), "echo: hello there world");
    assert.equal(textOf(result), sc.content);
    assert.equal(sc.model, "gpt-3.5-turbo");
    assert.equal(sc.finish_reason, "stop");
    assert.deepEqual(sc.usage, { prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 });

    const [req] = chatRequests();
    assert.ok(req, "the upstream received the chat request");
    assert.equal(req.body.model, "gpt-3.5-turbo");
    assert.deepEqual(req.body.messages, [
      { role: "system", content: "You are terse." },
      { role: "user", content: "hello there world" },
    ]);
  });

  test("a given model is the one the upstream receives", T, async () => {
    const result = await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "hi", model: "gpt-4o" } });
    assert.equal(result.isError, undefined);
    assert.equal((result.structuredContent as { model: string }).model, "gpt-4o");
    assert.equal(chatRequests()[0]?.body.model, "gpt-4o");
    assert.deepEqual(chatRequests()[0]?.body.messages, [{ role: "user", content: "hi" }]);
  });

  test("messages: the conversation reaches the upstream as given", T, async () => {
    const messages = [
      { role: "system", content: "Be brief." },
      { role: "user", content: "What is 2+2?" },
      { role: "assistant", content: "4" },
      { role: "user", content: "and times three" },
    ];
    const result = await mcp.client.callTool({ name: "chat_completion", arguments: { messages } });
    assert.equal(result.isError, undefined);
    assert.equal(textOf(result), "echo: and times three");
    assert.deepEqual(chatRequests()[0]?.body.messages, messages);
  });

  test("a tool exchange (the assistant's tool_calls, then each tool's answer) reaches the upstream exactly as given", T, async () => {
    const call = (id: string, name: string, args: object) => ({ id, type: "function", function: { name, arguments: JSON.stringify(args) } });
    const conversations = [
      [
        { role: "system", content: "Use the tools." },
        { role: "user", content: "What is the weather in Paris?" },
        { role: "assistant", content: null, tool_calls: [call("call_1", "get_weather", { location: "Paris" })] },
        { role: "tool", tool_call_id: "call_1", content: '{"temp_c":18}' },
      ],
      // Two calls in one turn, the assistant's content absent altogether, then a text turn after the answers.
      [
        { role: "user", content: "Weather in Paris and Rome?" },
        { role: "assistant", tool_calls: [call("call_a", "get_weather", { location: "Paris" }), call("call_b", "get_weather", { location: "Rome" })] },
        { role: "tool", tool_call_id: "call_a", content: "18 C" },
        { role: "tool", tool_call_id: "call_b", content: "24 C" },
        { role: "assistant", content: "Paris 18 C, Rome 24 C." },
        { role: "user", content: "and tomorrow" },
      ],
    ];
    for (const messages of conversations) {
      upstream.reset();
      const result = await mcp.client.callTool({ name: "chat_completion", arguments: { messages } });
      assert.equal(result.isError, undefined, textOf(result));
      assert.equal(textOf(result), `echo: ${messages.at(-1)!.content}`);
      assert.deepEqual(chatRequests()[0]?.body.messages, messages);
    }
  });

  test("sampling options reach the upstream", T, async () => {
    const options = { temperature: 0.2, top_p: 0.9, max_tokens: 64, seed: 42, stop: ["END", "STOP"], presence_penalty: 0.5, frequency_penalty: -0.5 };
    const result = await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "go", ...options } });
    assert.equal(result.isError, undefined);
    const body = chatRequests()[0]?.body;
    for (const [k, v] of Object.entries(options)) assert.deepEqual(body[k], v, `upstream got ${k}`);

    upstream.reset();
    await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "go", stop: "END" } });
    assert.equal(chatRequests()[0]?.body.stop, "END");
  });

  test("JSON mode: json_object gives content that parses as JSON", T, async () => {
    const result = await mcp.client.callTool({
      name: "chat_completion",
      arguments: { prompt: "a city", response_format: { type: "json_object" } },
    });
    assert.equal(result.isError, undefined);
    assert.deepEqual(JSON.parse(textOf(result)), { echo: "a city" });
    assert.deepEqual(chatRequests()[0]?.body.response_format, { type: "json_object" });
  });

  test("JSON mode: a json_schema response_format reaches the upstream intact", T, async () => {
    const response_format = {
      type: "json_schema",
      json_schema: {
        name: "city-answer",
        description: "A city and its country",
        strict: true,
        schema: {
          type: "object",
          properties: { city: { type: "string" }, country: { type: "string", enum: ["FR", "DE"] } },
          required: ["city", "country"],
          additionalProperties: false,
        },
      },
    };
    const result = await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "Paris", response_format } });
    assert.equal(result.isError, undefined);
    assert.deepEqual(JSON.parse(textOf(result)), { echo: "Paris" });
    assert.deepEqual(chatRequests()[0]?.body.response_format, response_format);
  });
});

describe("list_models", () => {
  test("returns the gateway's models as text and structured content", T, async () => {
    const result = await mcp.client.callTool({ name: "list_models", arguments: {} });
    assert.equal(result.isError, undefined);
    const { models } = result.structuredContent as { models: { id: string; owned_by: string; created: number }[] };
    assert.deepEqual(models.map((m) => m.id).sort(), ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]);
    for (const m of models) {
      assert.equal(m.owned_by, "fake-upstream");
      assert.equal(m.created, 1700000000);
      assert.match(textOf(result), new RegExp(`^${m.id} \\(fake-upstream\\)$`, "m"));
    }
  });
});

describe("errors", () => {
  test("a wrong GATEWAY_API_KEY: isError that names GATEWAY_API_KEY and 401, without the key", T, async () => {
    const wrongKey = "wrong-key-5d1e2b";
    const bad = await connectMcp({ env: { GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: wrongKey } });
    try {
      for (const [name, args] of [["list_models", {}], ["chat_completion", { prompt: "hi" }]] as const) {
        const result = await bad.client.callTool({ name, arguments: args });
        assert.equal(result.isError, true, name);
        const text = textOf(result);
        assert.match(text, /GATEWAY_API_KEY/);
        assert.match(text, /401/);
        assertCleanError(text, wrongKey);
      }
      assert.equal(chatRequests().length, 0, "a rejected key never reaches the upstream");
      assert.ok(!bad.stderr().includes(wrongKey), "the key is not logged");
    } finally {
      await bad.close();
    }
  });

  test("an unknown model (the gateway's own 404): isError naming the model and list_models", T, async () => {
    // A gateway without passthrough knows its models, and answers 404 itself for any other.
    const demo = await startGateway({ env: { GATEWAY_API_KEYS: CLIENT_KEY } });
    const client = await connectMcp({ env: { GATEWAY_URL: demo.origin, GATEWAY_API_KEY: CLIENT_KEY } });
    try {
      const result = await client.client.callTool({ name: "chat_completion", arguments: { prompt: "hi", model: "no-such-model-x1" } });
      assert.equal(result.isError, true);
      const text = textOf(result);
      assert.match(text, /no-such-model-x1/);
      assert.match(text, /list_models/);
      assert.match(text, /404/);
      assertCleanError(text);
    } finally {
      await client.close();
      await demo.stop();
    }
  });

  test("an unknown model (the upstream's 404, relayed): isError naming the model and list_models, not retried", T, async () => {
    const bodies = [
      // OpenAI's
      { error: { message: "The model 'gpt-9' does not exist or you do not have access to it.", type: "invalid_request_error", param: "model", code: "model_not_found" } },
      // Ollama's: no code, no param, only words
      { error: { message: 'model "gpt-9" not found, try pulling it first', type: "api_error", param: null, code: null } },
    ];
    for (const body of bodies) {
      upstream.reset();
      upstream.enqueue("/v1/chat/completions", { kind: "status", status: 404, body });
      const result = await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "hi", model: "gpt-9" } });
      assert.equal(result.isError, true);
      const text = textOf(result);
      assert.match(text, /'gpt-9'/);
      assert.match(text, /list_models/);
      assertCleanError(text);
      assert.equal(chatRequests().length, 1, "a 404 is not retried");
    }
  });

  test("upstream 500s: isError saying what failed and what to do, without retrying what the gateway gave up on", T, async () => {
    const client = await connectMcp({ env: { GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: CLIENT_KEY, MAX_RETRIES: "2" } });
    try {
      upstream.setDefault("/v1/chat/completions", { kind: "status", status: 500 });
      const result = await client.client.callTool({ name: "chat_completion", arguments: { prompt: "hi" } });
      assert.equal(result.isError, true);
      const text = textOf(result);
      assert.match(text, /\b500\b/);
      assert.match(text, /said not to retry/);
      assert.match(text, /try again/i);
      assertCleanError(text);
      // The gateway (retry.maxAttempts 1 here) answered x-should-retry: false; MAX_RETRIES=2 does not multiply it.
      assert.equal(chatRequests().length, 1, "the MCP server retried what the gateway had given up on");
    } finally {
      await client.close();
    }
  });

  test("input the schema rejects: the SDK's InvalidParams, rendered as an isError result", T, async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{}, /exactly one of `messages` or `prompt`/],
      [{ prompt: "a", messages: [{ role: "user", content: "b" }] }, /exactly one of `messages` or `prompt`/],
      [{ prompt: "hi", temperature: 5 }, /temperature/],
      [{ prompt: "hi", response_format: { type: "xml" } }, /response_format/],
      [{ messages: [{ role: "user", content: "hi" }, { role: "tool", content: "18 C" }] }, /tool_call_id/],
      [{ messages: [{ role: "user", content: "hi" }, { role: "assistant" }] }, /content.*tool_calls|tool_calls.*content/],
      [{ messages: [{ role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f" } }] }] }, /arguments/],
      [{ messages: [{ role: "wizard", content: "hi" }] }, /role/],
    ];
    for (const [args, why] of cases) {
      const result = await mcp.client.callTool({ name: "chat_completion", arguments: args });
      assert.equal(result.isError, true, JSON.stringify(args));
      const text = textOf(result);
      // SDK 1.32: McpError(InvalidParams) caught by McpServer and returned as a tool result.
      assert.match(text, /Input validation error/);
      assert.match(text, /-32602/);
      assert.match(text, why);
      assertCleanError(text);
    }
    assert.equal(chatRequests().length, 0, "rejected input never reaches the gateway");
  });

  test("an unknown tool is reported, not crashed on", T, async () => {
    const result = await mcp.client.callTool({ name: "no_such_tool", arguments: {} });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /no_such_tool not found/);
  });
});

describe("GATEWAY_URL", () => {
  test("pointing at a wrong path: the error says to check GATEWAY_URL, and does not blame the model", T, async () => {
    for (const url of [`${gateway.origin}/api`, `${gateway.origin}/v1/chat/completions`]) {
      const client = await connectMcp({ env: { GATEWAY_URL: url, GATEWAY_API_KEY: CLIENT_KEY } });
      try {
        for (const [name, args] of [["chat_completion", { prompt: "hi" }], ["list_models", {}]] as const) {
          const result = await client.client.callTool({ name, arguments: args });
          assert.equal(result.isError, true, `${url} ${name}`);
          const text = textOf(result);
          assert.match(text, /404/);
          assert.match(text, /Check that GATEWAY_URL/);
          assert.doesNotMatch(text, /not available|list_models to see/, `blames the model: ${text}`);
          assertCleanError(text);
        }
      } finally {
        await client.close();
      }
    }
    assert.equal(chatRequests().length, 0);
  });

  for (const suffix of ["", "/", "/v1", "/v1/"]) {
    test(`accepts the base URL ${JSON.stringify(suffix || "(bare origin)")}`, T, async () => {
      const client = await connectMcp({ env: { GATEWAY_URL: gateway.origin + suffix, GATEWAY_API_KEY: CLIENT_KEY } });
      try {
        const models = await client.client.callTool({ name: "list_models", arguments: {} });
        // A doubled or missing /v1 would be the gateway's 404 (the gateway caches the model list,
        // so the upstream may not see this one).
        assert.equal(models.isError, undefined, textOf(models));
        assert.match(textOf(models), /^gpt-4o-mini /m);
        const chat = await client.client.callTool({ name: "chat_completion", arguments: { prompt: "ping" } });
        assert.equal(chat.isError, undefined, textOf(chat));
        assert.equal(textOf(chat), "echo: ping");
        assert.deepEqual(chatRequests().map((r) => r.body.messages), [[{ role: "user", content: "ping" }]]);
      } finally {
        await client.close();
      }
    });
  }
});
