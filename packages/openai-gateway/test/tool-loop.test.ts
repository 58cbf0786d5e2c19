/**
 * The tool loop inside /v1/chat/completions, end to end: the gateway as a process, a real MCP
 * server from npm (@modelcontextprotocol/server-everything over stdio) behind it, and the fake
 * upstream's scripted tool-calling model ("CALL tool {args} AND ... THEN ...") as the model. Seen
 * through the official openai SDK and raw HTTP, whole and streamed.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import OpenAI from "openai";

const UPSTREAM_KEY = "sk-toolloop-upstream-key-0123456789";
const CLIENT_KEY = "gw-toolloop-client-key";
const CHAT = "/v1/chat/completions";
const T = { timeout: 30_000 };

let up: FakeUpstream;
let gw: GatewayProcess;
let client: OpenAI;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: CLIENT_KEY },
    config: {
      providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
      passthrough: "fake",
      models: {
        assistant: { targets: "fake/gpt-4o-mini", tools: ["everything"], instructions: "Use the tools when asked." },
        limited: { targets: "fake/gpt-4o-mini", tools: ["everything/echo"], maxToolRounds: 3 },
        carded: { targets: "fake/gpt-4o-mini", tools: ["everything/echo", "everything/get-sum"], toolDisplay: "details" },
      },
      mcpServers: { everything: { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] } },
      tools: { keepaliveMs: 1000 },
    },
  });
  await waitForMcpServers(gw);
  client = new OpenAI({ apiKey: CLIENT_KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

type Completion = OpenAI.Chat.Completions.ChatCompletion & { mcpgw?: { tool_calls: { name: string; server: string; tool: string; outcome: string; round: number }[]; tool_rounds: number; tool_round_limit_reached?: boolean } };

const ask = async (model: string, content: string, extra: object = {}) =>
  (await client.chat.completions.create({ model, messages: [{ role: "user", content }], ...extra } as never)) as unknown as Completion;

const upstreamChats = () => up.requests.filter((r) => r.path === CHAT);

describe("non-streaming", () => {
  test("one tool call: the gateway runs it and answers with the model's final text; usage is the sum of both rounds", T, async () => {
    const answer = await ask("assistant", 'CALL everything__echo {"message": "hello"}');
    assert.equal(answer.choices[0]?.message.content, "done: Echo: hello");
    assert.equal(answer.choices[0]?.finish_reason, "stop");
    assert.equal(answer.choices[0]?.message.tool_calls, undefined, "the MCP call is not the client's to run");
    const [first, second] = upstreamChats();
    assert.equal(upstreamChats().length, 2);
    // The model was offered the server's tools under OpenAI-safe names, after the instructions.
    const offered = (first!.body.tools as { function: { name: string } }[]).map((t) => t.function.name);
    assert.ok(offered.includes("everything__echo") && offered.includes("everything__get-sum"), offered.join(", "));
    assert.deepEqual(first!.body.messages[0], { role: "system", content: "Use the tools when asked." });
    // Round 2 carries the assistant's call and the tool's result.
    const msgs = second!.body.messages as { role: string; content?: string; tool_calls?: unknown[]; tool_call_id?: string }[];
    assert.equal(msgs.at(-2)?.role, "assistant");
    assert.equal((msgs.at(-2)?.tool_calls as { function: { name: string } }[])[0]?.function.name, "everything__echo");
    assert.deepEqual(msgs.at(-1), { role: "tool", tool_call_id: "call_1_1", content: "Echo: hello" });
    // usage: each fake answer counts prompt words and completion pieces; the gateway adds them up.
    assert.ok(answer.usage && answer.usage.total_tokens > 0);
    assert.deepEqual(answer.mcpgw?.tool_calls.map((c) => [c.name, c.server, c.tool, c.outcome, c.round]), [["everything__echo", "everything", "echo", "ok", 1]]);
    assert.equal(answer.mcpgw?.tool_rounds, 1);
  });

  test("parallel calls in one turn, then another round: every result reaches the model in order", T, async () => {
    const answer = await ask("assistant", 'CALL everything__echo {"message": "a"} AND everything__get-sum {"a": 2, "b": 3} THEN CALL everything__echo {"message": "b"}');
    assert.match(answer.choices[0]?.message.content ?? "", /^done: Echo: a \| .*5.* \| Echo: b$/);
    assert.equal(answer.mcpgw?.tool_rounds, 2);
    assert.equal(upstreamChats().length, 3);
  });

  test("a model that never stops calling tools: after maxToolRounds it is asked once more with no tools, and the answer says the limit was hit", T, async () => {
    const answer = await ask("limited", 'LOOP everything__echo {"message": "again"}');
    assert.equal(answer.mcpgw?.tool_rounds, 3);
    assert.equal(answer.mcpgw?.tool_round_limit_reached, true);
    assert.equal(answer.choices[0]?.message.content, "done: Echo: again | Echo: again | Echo: again");
    const last = upstreamChats().at(-1)!;
    assert.equal(last.body.tools, undefined, "the last request offers no tools");
    assert.match(JSON.stringify(last.body.messages.at(-1)), /limit of 3 tool rounds/);
    assert.equal(upstreamChats().length, 4);
  });

  test("the client's own tool: offered beside the MCP tools, and its call returned to the client, not run", T, async () => {
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }];
    const answer = await ask("assistant", 'CALL get_weather {"city": "Paris"}', { tools });
    assert.equal(answer.choices[0]?.finish_reason, "tool_calls");
    const calls = answer.choices[0]?.message.tool_calls as { id: string; function: { name: string; arguments: string } }[];
    assert.deepEqual(calls.map((c) => [c.function.name, c.function.arguments]), [["get_weather", '{"city": "Paris"}']]);
    assert.deepEqual(answer.mcpgw?.tool_calls, []);
    assert.equal(upstreamChats().length, 1);
  });

  test("a turn that calls both kinds: the MCP call runs, the client gets only its own call", T, async () => {
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
    const answer = await ask("assistant", 'CALL everything__echo {"message": "x"} AND get_weather {}', { tools });
    assert.equal(answer.choices[0]?.finish_reason, "tool_calls");
    assert.deepEqual((answer.choices[0]?.message.tool_calls as { function: { name: string } }[]).map((c) => c.function.name), ["get_weather"]);
    assert.deepEqual(answer.mcpgw?.tool_calls.map((c) => c.name), ["everything__echo"]);
    assert.equal(upstreamChats().length, 1, "the client's call ends the loop");
  });

  test("a client tool named like an MCP tool: 400 naming it, before anything runs", T, async () => {
    const tools = [{ type: "function", function: { name: "everything__echo", parameters: { type: "object" } } }];
    const err = await ask("assistant", "hi", { tools }).then(() => assert.fail("accepted"), (e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.code, "tool_name_conflict");
    assert.match(err.message, /everything__echo/);
    assert.equal(upstreamChats().length, 0);
  });

  test("a tool result marked isError: the model reads the error and answers; the client gets 200", T, async () => {
    const answer = await ask("assistant", 'CALL everything__get-sum {"a": "not a number"}');
    assert.equal(answer.choices[0]?.finish_reason, "stop");
    assert.match(answer.choices[0]?.message.content ?? "", /^done: Error/);
    assert.notEqual(answer.mcpgw?.tool_calls[0]?.outcome, "ok");
  });

  test("arguments that are not JSON, and a tool nobody offered: each answered to the model as an error, never passed on", T, async () => {
    const made = (name: string, args: string) => ({
      kind: "status" as const,
      status: 200,
      body: {
        id: "c1", object: "chat.completion", created: 1, model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: null, tool_calls: [{ id: "bad_1", type: "function", function: { name, arguments: args } }] }, finish_reason: "tool_calls" }],
        usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      },
    });
    up.enqueue(CHAT, made("everything__echo", '{"message": '));
    let answer = await ask("assistant", "CALL everything__echo {}");
    assert.match(answer.choices[0]?.message.content ?? "", /^done: Error: the tool could not be run: its arguments are not a JSON object/);
    up.reset();
    up.enqueue(CHAT, made("everything__made_up", "{}"));
    answer = await ask("assistant", "CALL everything__echo {}");
    assert.equal(answer.choices[0]?.message.tool_calls, undefined, "a made-up tool is not handed to the client");
    assert.match(answer.choices[0]?.message.content ?? "", /^done: Error: .*no tool named 'everything__made_up'/);
  });
});

describe("streaming", () => {
  /** The raw SSE text of a streamed request. */
  async function rawStream(model: string, content: string, extra: object = {}): Promise<string> {
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model, messages: [{ role: "user", content }], stream: true, ...extra }),
    });
    assert.equal(res.status, 200);
    return res.text();
  }
  const dataEvents = (text: string) => text.split("\n\n").filter((e) => e.startsWith("data: {")).map((e) => JSON.parse(e.slice(6)));

  test("one SSE stream for the whole loop: one id and created, the final text, the summed usage, mcpgw on the last chunk, [DONE]", T, async () => {
    const text = await rawStream("assistant", 'CALL everything__echo {"message": "streamed"} THEN CALL everything__echo {"message": "twice"}', { stream_options: { include_usage: true } });
    const events = dataEvents(text);
    assert.equal(new Set(events.map((e) => e.id)).size, 1, "one completion id");
    assert.equal(new Set(events.map((e) => e.created)).size, 1);
    const content = events.map((e) => e.choices?.[0]?.delta?.content ?? "").join("");
    assert.equal(content, "done: Echo: streamed | Echo: twice");
    assert.ok(!events.some((e) => e.choices?.[0]?.delta?.tool_calls), "no MCP tool call reaches the client");
    assert.deepEqual(events.filter((e) => e.choices?.[0]?.finish_reason).map((e) => e.choices[0].finish_reason), ["stop"], "one finish, at the end");
    const usage = events.filter((e) => e.usage);
    assert.equal(usage.length, 1, "one usage chunk, summed");
    assert.equal(usage[0].mcpgw.tool_rounds, 2);
    assert.ok(text.trimEnd().endsWith("data: [DONE]"));
    assert.match(text, /^: running everything__echo$/m, "a comment says a tool runs");
  });

  test("with the openai SDK: the same text streamed, and no usage chunk unless asked", T, async () => {
    const stream = await client.chat.completions.create({ model: "assistant", messages: [{ role: "user", content: 'CALL everything__echo {"message": "sdk"}' }], stream: true });
    let text = "";
    let usage = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage++;
    }
    assert.equal(text, "done: Echo: sdk");
    assert.equal(usage, 0);
  });

  test("keepalive comments at most keepaliveMs apart while a long tool runs", { timeout: 40_000 }, async () => {
    const started = performance.now();
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: "assistant", stream: true, messages: [{ role: "user", content: 'CALL everything__trigger-long-running-operation {"duration": 3, "steps": 3}' }] }),
    });
    const comments: number[] = [];
    let buffer = "";
    for await (const piece of res.body!) {
      buffer += Buffer.from(piece).toString();
      const count = (buffer.match(/^: (still )?running/gm) ?? []).length;
      while (comments.length < count) comments.push(performance.now() - started);
    }
    assert.ok(comments.length >= 3, `comments at ${comments.map((c) => Math.round(c)).join(", ")} ms`);
    for (let i = 1; i < comments.length; i++) assert.ok(comments[i]! - comments[i - 1]! < 1800, `a gap of ${Math.round(comments[i]! - comments[i - 1]!)} ms`);
    assert.match(buffer, /done: /);
  });

  test("toolDisplay details: Open WebUI tool cards in the stream, taken out again from the history the client sends back", T, async () => {
    const text = await rawStream("carded", 'CALL everything__get-sum {"a": 1, "b": 2}');
    const content = dataEvents(text).map((e) => e.choices?.[0]?.delta?.content ?? "").join("");
    assert.match(content, /<details type="tool_calls" done="true" id="call_1_1" name="everything__get-sum" arguments="\{&quot;a&quot;: 1, &quot;b&quot;: 2\}" result="[^"]*3[^"]*"/);
    assert.match(content, /<\/details>\n?done: /);
    // Open WebUI sends the whole assistant text back on the next turn: the card does not reach the model.
    up.reset();
    await ask("carded", "thanks", { messages: [{ role: "user", content: "sum" }, { role: "assistant", content }, { role: "user", content: "thanks" }] });
    const history = upstreamChats()[0]!.body.messages as { role: string; content: string }[];
    const assistant = history.find((m) => m.role === "assistant")!;
    assert.doesNotMatch(assistant.content, /<details/);
    assert.match(assistant.content, /^done: /);
  });
});

describe("cancellation", () => {
  const cancelled = async () => {
    const text = await (await fetch(`${gw.origin}/metrics`)).text();
    return Number(/gateway_mcp_tool_calls_total\{server="everything",tool="trigger-long-running-operation",outcome="cancelled"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  test("a client that disconnects while a tool runs: the call is cancelled on the server, and nothing more is asked upstream", T, async () => {
    const before = await cancelled();
    const controller = new AbortController();
    const res = await fetch(`${gw.baseURL}/chat/completions`, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: "assistant", stream: true, messages: [{ role: "user", content: 'CALL everything__trigger-long-running-operation {"duration": 10, "steps": 10}' }] }),
    });
    const reader = res.body!.getReader();
    // Wait for the comment that says the tool runs, then leave.
    for (let seen = ""; !seen.includes(": running"); ) seen += Buffer.from((await reader.read()).value ?? []).toString();
    controller.abort();
    const deadline = performance.now() + 3000;
    while ((await cancelled()) === before && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(await cancelled(), before + 1, "the tool call was not cancelled");
    assert.equal(upstreamChats().length, 1, "the loop went on without its client");
  });
});

describe("what the gateway shows of its MCP servers", () => {
  test("/ready lists each server with its state and tool count; /metrics counts tool calls by server, tool and outcome", T, async () => {
    const ready = (await (await fetch(`${gw.origin}/ready`)).json()) as { status: string; mcpServers: { name: string; state: string; tools: number; transport: string }[] };
    assert.equal(ready.status, "ready");
    const everything = ready.mcpServers.find((s) => s.name === "everything")!;
    assert.equal(everything.state, "ready");
    assert.equal(everything.transport, "stdio");
    assert.ok(everything.tools >= 10, `${everything.tools} tools`);
    await ask("assistant", 'CALL everything__echo {"message": "count me"}');
    const metrics = await (await fetch(`${gw.origin}/metrics`)).text();
    assert.match(metrics, /gateway_mcp_tool_calls_total\{server="everything",tool="echo",outcome="ok"\} [1-9]/);
    assert.match(metrics, /gateway_mcp_server_up\{server="everything"\} 1/);
    assert.match(metrics, /gateway_tool_rounds_count\{model="assistant"\} [1-9]/);
  });

  test("a tool's output never carries the upstream key: get-env runs in an environment without it", T, async () => {
    const answer = await ask("assistant", "CALL everything__get-env {}");
    const text = answer.choices[0]?.message.content ?? "";
    assert.match(text, /PATH/);
    assert.ok(!text.includes(UPSTREAM_KEY), "the upstream key reached the tool's environment");
    assert.ok(!text.includes(CLIENT_KEY));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!gw.lines.some((l) => l.includes(UPSTREAM_KEY)), "a log line holds the key");
  });
});

describe("another well-known client: the Vercel AI SDK (ai + @ai-sdk/openai-compatible)", () => {
  test("generateText and streamText against a tool-enabled model get the answer that used the tools", T, async () => {
    const { createOpenAICompatible } = await import("@ai-sdk/openai-compatible");
    const { generateText, streamText } = await import("ai");
    const gateway = createOpenAICompatible({ name: "mcpgw", baseURL: gw.baseURL, apiKey: CLIENT_KEY });
    const whole = await generateText({ model: gateway("assistant"), prompt: 'CALL everything__echo {"message": "from the ai sdk"}', maxRetries: 0 });
    assert.equal(whole.text, "done: Echo: from the ai sdk");
    assert.ok((whole.usage.totalTokens ?? 0) > 0, "usage reaches the SDK");
    const streamed = streamText({ model: gateway("assistant"), prompt: 'CALL everything__get-sum {"a": 20, "b": 22}', maxRetries: 0 });
    let text = "";
    for await (const part of streamed.textStream) text += part;
    assert.match(text, /^done: .*42/);
  });
});
