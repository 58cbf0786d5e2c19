/**
 * The rest of the OpenAI API through the gateway, with the official openai SDK as the client and the
 * fake upstream answering as OpenAI's API reference shows: Responses (whole and streamed, its typed
 * events relayed one by one), legacy text completions (whole and streamed), moderations and image
 * generations. Aliases are rewritten per target, usage is counted per key (Responses' input and
 * output tokens included) and shown in /usage, limits answer with their headers, and an upstream
 * that lacks an endpoint answers as it answers.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { startGateway, type GatewayProcess } from "@mcpgw/test-support";
import OpenAI from "openai";

const T = { timeout: 30_000 };
const KEY = "gw-more-endpoints-0123456789";
let up: FakeUpstream;
let gw: GatewayProcess;
let sdk: OpenAI;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY: "sk-more-upstream-0123456789", KEY },
    config: {
      providers: {
        fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" },
        azure: { type: "azure", baseUrl: up.url.replace(/\/v1$/, ""), apiKey: "${UPSTREAM_KEY}", apiVersion: "2025-04-01-preview" },
      },
      models: { writer: "fake/gpt-4o-mini", instruct: "fake/gpt-3.5-turbo-instruct", "azure-writer": "azure/my-deployment", "azure-instruct": "azure/my-instruct" },
      passthrough: "fake",
      clients: [{ name: "app", keyEnv: "KEY", limits: { rpm: 1000 } }],
    },
  });
  sdk = new OpenAI({ apiKey: KEY, baseURL: gw.baseURL, maxRetries: 0 });
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

const sent = (path: string) => up.requests.filter((r) => r.path === path).map((r) => r.body as Record<string, unknown>);
const usageOf = async (model: string) => {
  const res = await fetch(`${gw.origin}/usage?group_by=model`, { headers: { authorization: `Bearer ${KEY}` } });
  return ((await res.json()) as { data: { model: string; requests: number; prompt_tokens: number; completion_tokens: number }[] }).data.find((r) => r.model === model);
};

describe("POST /v1/responses", () => {
  test("create: the alias rewritten upstream, unknown fields untouched, input and output tokens counted", T, async () => {
    const response = await sdk.responses.create({ model: "writer", input: "say something nice", instructions: "be brief", metadata: { team: "a" } } as never);
    assert.equal(response.object, "response");
    assert.equal(response.output_text, "echo: say something nice");
    const [body] = sent("/v1/responses");
    assert.equal(body!.model, "gpt-4o-mini");
    assert.deepEqual(body!.metadata, { team: "a" });
    const row = await usageOf("writer");
    assert.equal(row?.prompt_tokens, response.usage!.input_tokens);
    assert.equal(row?.completion_tokens, response.usage!.output_tokens);
  });

  test("stream: the typed events arrive in order, event by event, and its usage is counted", T, async () => {
    const stream = await sdk.responses.create({ model: "writer", input: "stream this please", stream: true });
    const types: string[] = [];
    let text = "";
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.completed") completed = event.response;
    }
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
    assert.ok(types.filter((t) => t === "response.output_text.delta").length >= 3);
    assert.equal(text, "echo: stream this please");
    assert.equal(sent("/v1/responses")[0]!.stream_options, undefined, "nothing added: the Responses API reports usage itself");
    const row = await usageOf("writer");
    assert.equal(row?.completion_tokens, completed!.usage!.output_tokens + 4, "with the earlier test's four output tokens");
  });

  test("an upstream that lacks the endpoint answers as it answers, in OpenAI's shape", T, async () => {
    up.enqueue("/v1/responses", { kind: "status", status: 404, body: { error: { message: "Invalid URL (POST /v1/responses)", type: "invalid_request_error", param: null, code: null } } });
    const err = await sdk.responses.create({ model: "writer", input: "x" }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.match(err.message, /Invalid URL/);
  });

  test("a request without input is a 400 naming it, before any upstream is asked", T, async () => {
    const res = await fetch(`${gw.baseURL}/responses`, { method: "POST", headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" }, body: JSON.stringify({ model: "writer" }) });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, "input");
    assert.equal(sent("/v1/responses").length, 0);
  });
});

describe("Azure's paths", () => {
  test("responses go to /openai/responses (the deployment in the body); completions per deployment, as chat's", T, async () => {
    await sdk.responses.create({ model: "azure-writer", input: "x" }).catch(() => {});
    await sdk.completions.create({ model: "azure-instruct", prompt: "x" }).catch(() => {});
    const paths = up.requests.map((r) => [r.path, (r.body as { model?: string })?.model]);
    assert.deepEqual(paths, [["/openai/responses", "my-deployment"], ["/openai/deployments/my-instruct/completions", "my-instruct"]]);
  });
});

describe("POST /v1/completions", () => {
  test("whole and streamed; the stream's usage asked for by the gateway and stripped again", T, async () => {
    const whole = await sdk.completions.create({ model: "instruct", prompt: "once upon a time", max_tokens: 20 });
    assert.equal(whole.choices[0]!.text, " echo: once upon a time");
    assert.equal(sent("/v1/completions")[0]!.model, "gpt-3.5-turbo-instruct");
    const stream = await sdk.completions.create({ model: "instruct", prompt: "tell me more", stream: true });
    let text = "";
    let sawUsage = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? "";
      if (chunk.usage) sawUsage = true;
    }
    assert.equal(text, " echo: tell me more");
    assert.equal(sawUsage, false, "the client did not ask for usage");
    assert.deepEqual(sent("/v1/completions")[1]!.stream_options, { include_usage: true });
    const row = await usageOf("instruct");
    assert.equal(row?.requests, 2);
    assert.equal(row?.prompt_tokens, 4 + 3);
  });
});

describe("POST /v1/moderations and /v1/images/generations", () => {
  test("moderations: results as the upstream gives them; the model defaults as OpenAI's does", T, async () => {
    const result = await sdk.moderations.create({ input: ["a kind word", "pure hate"] });
    assert.deepEqual(result.results.map((r) => r.flagged), [false, true]);
    assert.equal(sent("/v1/moderations")[0]!.model, "omni-moderation-latest");
  });

  test("images: generated images relayed, with the limits' headers on the answer", T, async () => {
    const raw = await sdk.images.generate({ model: "gpt-image-1", prompt: "a small red square", n: 2 }).withResponse();
    assert.equal(raw.data.data?.length, 2);
    assert.ok(raw.data.data![0]!.b64_json!.length > 20);
    assert.equal(raw.response.headers.get("x-ratelimit-limit-requests"), "1000");
    assert.equal(sent("/v1/images/generations")[0]!.model, "gpt-image-1");
  });
});
