/**
 * The Responses API's MCP tools run by the gateway: a request whose tools hold
 * `{"type": "mcp", "server_label": "everything", ...}` is served against the gateway's own MCP server
 * (the real @modelcontextprotocol/server-everything over stdio), with the fake upstream's scripted
 * model, which knows only function tools, as the model. The output items have the Responses API's
 * shapes (mcp_list_tools, mcp_call, mcp_approval_request), whole and streamed, seen through the
 * official openai SDK; a tool's error shows in mcp_call.error; approvals continue with
 * previous_response_id; a server_url elsewhere is the upstream's to run.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import OpenAI from "openai";

const T = { timeout: 30_000 };
const KEY = "gw-responses-mcp-key-0123456789";
const NO_TOOLS = "gw-responses-mcp-notools-0123456789";
let up: FakeUpstream;
let gw: GatewayProcess;
let sdk: OpenAI;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY: "sk-responses-mcp-upstream-0123456789", KEY, NO_TOOLS },
    config: {
      providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
      models: { writer: "fake/gpt-4o-mini" },
      mcpServers: { everything: { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] } },
      clients: [
        { name: "app", keyEnv: "KEY", tools: ["everything"] },
        { name: "plain", keyEnv: "NO_TOOLS" },
      ],
      tools: { keepaliveMs: 500 },
    },
  });
  await waitForMcpServers(gw);
  sdk = new OpenAI({ apiKey: KEY, baseURL: gw.baseURL, maxRetries: 0, timeout: 20_000 });
});
beforeEach(() => up.reset());
after(async () => {
  if (process.env.SHOW_GATEWAY_LOG) console.log(gw?.lines.filter((l) => /error|"level":(40|50)/.test(l)).join("\n"));
  await gw?.stop();
  await up?.close();
});

const everything = (extra: object = {}) => ({ type: "mcp", server_label: "everything", require_approval: "never", ...extra }) as never;
const upstream = () => up.requests.filter((r) => r.path === "/v1/responses").map((r) => r.body as { tools: { type: string; name?: string }[]; input: { type?: string; call_id?: string; output?: string }[]; tool_choice?: unknown });
type Items = OpenAI.Responses.ResponseOutputItem[];
const ofType = <K extends Items[number]["type"]>(items: Items, type: K) => items.filter((i) => i.type === type) as Extract<Items[number], { type: K }>[];

describe("mcp tools, whole", () => {
  test("the gateway lists the server's tools, runs the model's call and answers with the model's text", T, async () => {
    const response = await sdk.responses.create({
      model: "writer",
      input: 'CALL everything__echo {"message": "hi there"}',
      tools: [everything({ allowed_tools: ["echo", "get-sum"] })],
    });
    const [list] = ofType(response.output, "mcp_list_tools");
    assert.equal(list?.server_label, "everything");
    assert.deepEqual(list?.tools.map((t) => t.name).sort(), ["echo", "get-sum"]);
    assert.equal((list?.tools[0]?.input_schema as { type?: string }).type, "object");
    const [call] = ofType(response.output, "mcp_call");
    assert.equal(call?.server_label, "everything");
    assert.equal(call?.name, "echo");
    assert.deepEqual(JSON.parse(call!.arguments), { message: "hi there" });
    assert.equal(call?.output, "Echo: hi there");
    assert.equal(call?.error ?? null, null);
    assert.equal(response.output_text, "done: Echo: hi there");
    // The model's own function_call for the tool is the gateway's business, not shown.
    assert.equal(ofType(response.output, "function_call").length, 0);
    // The response shows the tools the client sent, not the functions the model was offered.
    assert.deepEqual(response.tools.map((t) => t.type), ["mcp"]);

    // Upstream: the model saw function tools only, and round 2 carried the call and its output.
    const [first, second] = upstream();
    assert.equal(upstream().length, 2);
    assert.deepEqual(first!.tools.map((t) => [t.type, t.name]).sort(), [["function", "everything__echo"], ["function", "everything__get-sum"]]);
    const out = second!.input.find((i) => i.type === "function_call_output");
    assert.deepEqual([out?.call_id, out?.output], ["call_1_1", "Echo: hi there"]);
    // Usage is both rounds'.
    assert.ok(response.usage && response.usage.input_tokens > 0 && response.usage.total_tokens === response.usage.input_tokens + response.usage.output_tokens);
  });

  test("a tool's error shows in mcp_call.error, and the model reads it and answers", T, async () => {
    const response = await sdk.responses.create({
      model: "writer",
      input: 'CALL everything__get-sum {"a": "not a number"}',
      tools: [everything()],
    });
    const [call] = ofType(response.output, "mcp_call");
    assert.equal(call?.name, "get-sum");
    assert.equal(call?.output ?? null, null);
    assert.equal(call?.status, "failed");
    // The SDK's McpToolCallError: the tool's own error result, or a call that produced none.
    assert.ok(call?.error && ["mcp_tool_execution_error", "mcp_protocol_error"].includes(call.error.type), JSON.stringify(call?.error));
    assert.ok(JSON.stringify(call.error).length > 40, JSON.stringify(call.error));
    assert.match(response.output_text, /^done: /);
  });

  test("a call and then another round: every item in order, ids unique", T, async () => {
    const response = await sdk.responses.create({
      model: "writer",
      input: 'CALL everything__echo {"message": "one"} AND everything__get-sum {"a": 2, "b": 3} THEN CALL everything__echo {"message": "two"}',
      tools: [everything()],
    });
    assert.deepEqual(response.output.map((i) => i.type), ["mcp_list_tools", "mcp_call", "mcp_call", "mcp_call", "message"]);
    assert.match(response.output_text, /^done: Echo: one \| .*5.* \| Echo: two$/);
    const ids = response.output.map((i) => i.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(upstream().length, 3);
  });

  test("a server the key may not use, or none by that label: 400 naming the field; another server_url passes through", T, async () => {
    const plain = new OpenAI({ apiKey: NO_TOOLS, baseURL: gw.baseURL, maxRetries: 0 });
    await assert.rejects(plain.responses.create({ model: "writer", input: "x", tools: [everything()] }), (err: unknown) => err instanceof OpenAI.BadRequestError && /no MCP server labelled 'everything'/.test(err.message) && !/'everything'[^.]*\(its servers: 'everything'/.test(err.message));
    await assert.rejects(sdk.responses.create({ model: "writer", input: "x", tools: [{ type: "mcp", server_label: "nope", require_approval: "never" } as never] }), (err: unknown) => err instanceof OpenAI.BadRequestError && (err as { param?: string }).param === "tools[0].server_label");
    assert.equal(upstream().length, 0);
    // A remote server is the upstream's: sent as it came.
    const remote = { type: "mcp", server_label: "deepwiki", server_url: "https://mcp.deepwiki.com/mcp", require_approval: "never" };
    await sdk.responses.create({ model: "writer", input: "plain", tools: [remote as never] });
    assert.deepEqual(upstream()[0]!.tools, [remote]);
  });
});

describe("mcp tools beside the client's own", () => {
  test("a server_url naming the gateway's own /mcp/{server} is run by the gateway too", T, async () => {
    const response = await sdk.responses.create({ model: "writer", input: 'CALL everything__echo {"message": "self"}', tools: [everything({ server_url: `${gw.origin}/mcp/everything` })] });
    assert.equal(ofType(response.output, "mcp_call")[0]?.output, "Echo: self");
  });

  test("a round that also calls the client's function: both shown; the client's result continues, with the gateway's added", T, async () => {
    const lookup = { type: "function" as const, name: "lookup", description: "Looks a word up", parameters: { type: "object", properties: { q: { type: "string" } } }, strict: false };
    const first = await sdk.responses.create({ model: "writer", input: 'CALL everything__echo {"message": "mine"} AND lookup {"q": "yours"}', tools: [everything(), lookup] });
    assert.equal(ofType(first.output, "mcp_call")[0]?.output, "Echo: mine");
    const [fn] = ofType(first.output, "function_call");
    assert.equal(fn?.name, "lookup");
    const next = await sdk.responses.create({
      model: "writer",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: fn!.call_id, output: "a definition" }],
      tools: [everything(), lookup],
    });
    assert.equal(next.output_text, "done: Echo: mine | a definition");
    const sent = upstream().at(-1)!;
    assert.deepEqual(sent.input.filter((i) => i.type === "function_call_output").map((i) => i.call_id), ["call_1_1", "call_1_2"]);
  });

  test("a model that never stops calling is stopped after 8 rounds and asked without the tools", T, async () => {
    const response = await sdk.responses.create({ model: "writer", input: 'LOOP everything__echo {"message": "again"}', tools: [everything()] });
    assert.equal(ofType(response.output, "mcp_call").length, 8);
    assert.match(response.output_text, /^done: (Echo: again \| ){7}Echo: again$/);
    const rounds = upstream();
    assert.equal(rounds.length, 9);
    assert.deepEqual(rounds.at(-1)!.tools, [], "the last round offers no tools");
  });
});

describe("mcp tools, streamed", () => {
  test("one stream: the mcp items' events, then the model's text, numbered in order; the SDK's final response matches", T, async () => {
    const stream = sdk.responses.stream({ model: "writer", input: 'CALL everything__echo {"message": "streamed"}', tools: [everything()] });
    const types: string[] = [];
    const seqs: number[] = [];
    let text = "";
    for await (const event of stream) {
      types.push(event.type);
      seqs.push(event.sequence_number);
      if (event.type === "response.output_text.delta") text += event.delta;
    }
    const final = await stream.finalResponse();
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    assert.deepEqual(seqs, seqs.map((_, i) => i), "sequence numbers count up from 0 over the whole stream");
    for (const t of ["response.mcp_list_tools.in_progress", "response.mcp_list_tools.completed", "response.mcp_call_arguments.delta", "response.mcp_call_arguments.done", "response.mcp_call.in_progress", "response.mcp_call.completed"]) {
      assert.ok(types.includes(t), `${t} in ${types.join(" ")}`);
    }
    assert.ok(types.indexOf("response.mcp_call.completed") < types.indexOf("response.output_text.delta"));
    assert.equal(types.filter((t) => t === "response.created").length, 1);
    assert.ok(!types.some((t) => t.startsWith("response.function_call_arguments")), "the model's calls of the gateway's tools are not shown");
    assert.equal(text, "done: Echo: streamed");
    assert.deepEqual(final.output.map((i) => i.type), ["mcp_list_tools", "mcp_call", "message"]);
    assert.equal(final.output_text, "done: Echo: streamed");
    assert.equal(ofType(final.output, "mcp_call")[0]?.output, "Echo: streamed");
  });
});

describe("approvals", () => {
  test("streamed: the stream ends with the approval request, and response.completed holds it", T, async () => {
    const stream = sdk.responses.stream({ model: "writer", input: 'CALL everything__echo {"message": "may I?"}', tools: [everything({ require_approval: "always" })] });
    const final = await stream.finalResponse();
    assert.deepEqual(final.output.map((i) => i.type), ["mcp_list_tools", "mcp_approval_request"]);
    const [request] = ofType(final.output, "mcp_approval_request");
    const next = await sdk.responses.create({ model: "writer", previous_response_id: final.id, input: [{ type: "mcp_approval_response", approval_request_id: request!.id, approve: true }], tools: [everything({ require_approval: "always" })] });
    assert.equal(next.output_text, "done: Echo: may I?");
  });

  test("require_approval (OpenAI's default): the call waits for mcp_approval_response, then runs", T, async () => {
    const first = await sdk.responses.create({ model: "writer", input: 'CALL everything__echo {"message": "approved?"}', tools: [everything({ require_approval: "always" })] });
    const [request] = ofType(first.output, "mcp_approval_request");
    assert.equal(request?.name, "echo");
    assert.deepEqual(JSON.parse(request!.arguments), { message: "approved?" });
    assert.equal(ofType(first.output, "mcp_call").length, 0, "nothing ran yet");
    assert.equal(upstream().length, 1);

    const next = await sdk.responses.create({
      model: "writer",
      previous_response_id: first.id,
      input: [{ type: "mcp_approval_response", approval_request_id: request!.id, approve: true }],
      tools: [everything({ require_approval: "always" })],
    });
    const [call] = ofType(next.output, "mcp_call");
    assert.equal(call?.output, "Echo: approved?");
    assert.equal(call?.approval_request_id, request!.id);
    assert.equal(next.output_text, "done: Echo: approved?");
    // Upstream: the continuation carried the call's output for the model's call_id, after the stored history.
    const sent = upstream()[1]!;
    assert.equal((sent as { previous_response_id?: string }).previous_response_id, first.id);
    assert.deepEqual(sent.input.filter((i) => i.type === "function_call_output").map((i) => [i.call_id, i.output]), [["call_1_1", "Echo: approved?"]]);
    assert.ok(!sent.input.some((i) => i.type === "mcp_approval_response"), "the approval is the gateway's, not the model's");

    // Answered once: the same approval again is refused.
    await assert.rejects(
      sdk.responses.create({ model: "writer", previous_response_id: first.id, input: [{ type: "mcp_approval_response", approval_request_id: request!.id, approve: true }], tools: [everything({ require_approval: "always" })] }),
      (err: unknown) => err instanceof OpenAI.BadRequestError,
    );
  });

  test("a declined call is not run (no mcp_call), and the model is told", T, async () => {
    const tools = [everything({ require_approval: { never: { tool_names: ["get-sum"] } } })];
    const first = await sdk.responses.create({ model: "writer", input: 'CALL everything__echo {"message": "no"}', tools });
    const [request] = ofType(first.output, "mcp_approval_request");
    const next = await sdk.responses.create({ model: "writer", previous_response_id: first.id, input: [{ type: "mcp_approval_response", approval_request_id: request!.id, approve: false }], tools });
    assert.equal(ofType(next.output, "mcp_call").length, 0);
    assert.match(next.output_text, /^done: The user declined/);
  });
});
