/**
 * The agent frameworks users point at the gateway, each on its Responses API path: the Vercel AI SDK
 * (@ai-sdk/openai, whose default model calls /v1/responses) and LangChain (ChatOpenAI with
 * useResponsesApi). Each test checks what the user sees (the text, the stream, the tool call and
 * the answer after it) and what reached the upstream: /v1/responses, the alias rewritten to the
 * upstream's model, the upstream's key and never the client's. The client runs the function tools;
 * the fake upstream's scripted model (`CALL add {...}`) asks for them.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { createOpenAI } from "@ai-sdk/openai";
import { HumanMessage, type AIMessage } from "@langchain/core/messages";
import { tool as langchainTool } from "@langchain/core/tools";
import { ChatOpenAI } from "@langchain/openai";
import { startFakeUpstream, type FakeUpstream, type RecordedRequest } from "@mcpgw/fake-upstream";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";
import { generateText, stepCountIs, streamText, tool } from "ai";
import { z } from "zod";

const T = { timeout: 30_000 };
const KEY = "gw-sdk-clients-0123456789";
const UPSTREAM_KEY = "sk-sdk-clients-upstream-0123456789";
const ADD_SCRIPT = 'CALL add {"a":2,"b":3}';
let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY, KEY },
    config: {
      providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
      models: { writer: "fake/gpt-4o-mini" },
      clients: [{ name: "app", keyEnv: "KEY", limits: { rpm: 1000 } }],
    },
  });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

/** Every upstream request went to /v1/responses as gpt-4o-mini, with the upstream's key only. */
function upstreamRequests(n: number): RecordedRequest[] {
  assert.deepEqual(up.requests.map((r) => `${r.method} ${r.path}`), Array(n).fill("POST /v1/responses"));
  for (const r of up.requests) {
    assert.equal(r.body.model, "gpt-4o-mini");
    assert.equal(r.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
    assert.ok(!r.rawBody.includes(KEY) && !JSON.stringify(r.headers).includes(KEY), "the client's key stays at the gateway");
  }
  return up.requests;
}

type Item = { type?: string; call_id?: string; output?: unknown };
const itemsOf = (r: RecordedRequest): Item[] => (Array.isArray(r.body.input) ? r.body.input : []);

describe("the Vercel AI SDK (@ai-sdk/openai, Responses API)", () => {
  // Made per test: the gateway's port is known only once before() has run.
  const writer = () => createOpenAI({ baseURL: gw.baseURL, apiKey: KEY })("writer");

  test("generateText: the fake's echo, relayed whole", T, async () => {
    const result = await generateText({ model: writer(), prompt: "hello from vercel" });
    assert.equal(result.text, "echo: hello from vercel");
    assert.equal(result.finishReason, "stop");
    assert.equal(result.usage.outputTokens, 4);
    const [req] = upstreamRequests(1);
    assert.notEqual(req!.body.stream, true);
  });

  test("streamText: the text arrives in several deltas that add up to the whole", T, async () => {
    const result = streamText({ model: writer(), prompt: "stream me some words" });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    assert.ok(deltas.length > 1, `${deltas.length} deltas`);
    assert.equal(deltas.join(""), "echo: stream me some words");
    assert.equal(await result.text, deltas.join(""));
    const [req] = upstreamRequests(1);
    assert.equal(req!.body.stream, true);
  });

  test("a tool call: execute runs with the model's arguments, its result goes back, the final text follows", T, async () => {
    const ran: { a: number; b: number }[] = [];
    const result = await generateText({
      model: writer(),
      prompt: ADD_SCRIPT,
      tools: {
        add: tool({
          description: "Adds two numbers",
          inputSchema: z.object({ a: z.number(), b: z.number() }),
          execute: async ({ a, b }) => {
            ran.push({ a, b });
            return a + b;
          },
        }),
      },
      stopWhen: stepCountIs(3),
    });
    assert.deepEqual(ran, [{ a: 2, b: 3 }]);
    assert.equal(result.steps.length, 2);
    assert.equal(result.text, "done: 5");
    const [first, second] = upstreamRequests(2);
    assert.ok((first!.body.tools as { type: string; name: string }[]).some((t) => t.type === "function" && t.name === "add"));
    const outputs = itemsOf(second!).filter((i) => i.type === "function_call_output");
    assert.deepEqual(outputs.map((o) => [o.call_id, o.output]), [["call_1_1", "5"]]);
  });

  test("the same tool loop streamed: the call's argument deltas assembled, the final text streamed", T, async () => {
    const ran: { a: number; b: number }[] = [];
    const add = tool({
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      execute: async ({ a, b }) => {
        ran.push({ a, b });
        return a + b;
      },
    });
    const result = streamText({ model: writer(), prompt: ADD_SCRIPT, tools: { add }, stopWhen: stepCountIs(3) });
    let text = "";
    for await (const delta of result.textStream) text += delta;
    assert.deepEqual(ran, [{ a: 2, b: 3 }]);
    assert.equal(text, "done: 5");
    assert.deepEqual(upstreamRequests(2).map((r) => r.body.stream), [true, true]);
  });
});

describe("LangChain (ChatOpenAI, useResponsesApi)", () => {
  const chat = () => new ChatOpenAI({ model: "writer", apiKey: KEY, configuration: { baseURL: gw.baseURL }, useResponsesApi: true, maxRetries: 0 });

  test("invoke: the fake's echo as the AIMessage's text", T, async () => {
    const message = await chat().invoke("hello from langchain");
    assert.equal(message.text, "echo: hello from langchain");
    upstreamRequests(1);
  });

  test("stream: chunks concatenated give the whole text", T, async () => {
    const parts: string[] = [];
    for await (const chunk of await chat().stream("stream me from langchain")) if (chunk.text) parts.push(chunk.text);
    assert.ok(parts.length > 1, `${parts.length} chunks`);
    assert.equal(parts.join(""), "echo: stream me from langchain");
    const [req] = upstreamRequests(1);
    assert.equal(req!.body.stream, true);
  });

  test("bindTools: the AIMessage's tool call, then the ToolMessage back gets the final text", T, async () => {
    const add = langchainTool(async ({ a, b }: { a: number; b: number }) => String(a + b), {
      name: "add",
      description: "Adds two numbers",
      schema: z.object({ a: z.number(), b: z.number() }),
    });
    const model = chat().bindTools([add]);
    const question = new HumanMessage(ADD_SCRIPT);
    const asked = (await model.invoke([question])) as AIMessage;
    assert.deepEqual(asked.tool_calls?.map((c) => [c.name, c.args, c.id]), [["add", { a: 2, b: 3 }, "call_1_1"]]);
    const answer = await add.invoke({ ...asked.tool_calls![0]!, type: "tool_call" });
    const final = await model.invoke([question, asked, answer]);
    assert.equal(final.text, "done: 5");
    const [, second] = upstreamRequests(2);
    const outputs = itemsOf(second!).filter((i) => i.type === "function_call_output");
    assert.deepEqual(outputs.map((o) => [o.call_id, o.output]), [["call_1_1", "5"]]);
  });
});
