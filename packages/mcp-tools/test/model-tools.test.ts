/**
 * The model tools as both services serve them: registered on an McpServer (openai-gateway-mcp) and
 * as a tool set for a low-level Server (the gateway's /mcp), against a backend of the test's own.
 * Both must show a client the same tools, and answer alike: the backend's answer as text and
 * structuredContent, progress as the text grows, a failure as an isError result, bad arguments
 * as invalid params.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { InvalidToolArguments, modelToolSet, registerModelTools, ToolFailure, type ChatRequest, type ModelBackend } from "../src/index.ts";

/** A backend that echoes the last message, word by word when streamed; "fail" fails. */
function echoBackend(seen: ChatRequest[] = []): ModelBackend {
  return {
    defaultModel: "echo-model",
    async chat(request, { onText }) {
      seen.push(request);
      const last = String(request.messages.at(-1)?.content ?? "");
      if (last === "fail") throw new ToolFailure("the backend failed, on purpose");
      let text = "";
      for (const word of last.split(" ")) {
        text += (text ? " " : "") + word;
        onText?.(text);
        await new Promise((r) => setTimeout(r, 120));
      }
      return { model: request.model, content: text, finish_reason: "stop", usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } };
    },
    async listModels() {
      return [{ id: "echo-model", owned_by: "test", created: 1 }];
    },
  };
}

async function connected(server: McpServer | Server): Promise<Client> {
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: "t", version: "1" });
  await client.connect(a);
  return client;
}

async function viaMcpServer(backend: ModelBackend) {
  const server = new McpServer({ name: "s", version: "1" });
  registerModelTools(server, () => backend);
  return connected(server);
}

async function viaToolSet(backend: ModelBackend) {
  const server = new Server({ name: "s", version: "1" }, { capabilities: { tools: {} } });
  const set = modelToolSet(() => backend);
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: set.tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const call = set.call(request.params.name, request.params.arguments, extra);
    if (!call) throw new McpError(ErrorCode.InvalidParams, "unknown");
    return call.catch((err: unknown) => {
      throw err instanceof InvalidToolArguments ? new McpError(ErrorCode.InvalidParams, err.message) : err;
    });
  });
  return connected(server);
}

describe("both ways of serving them", () => {
  test("a client is shown the same tools", async () => {
    const a = (await (await viaMcpServer(echoBackend())).listTools()).tools;
    const b = (await (await viaToolSet(echoBackend())).listTools()).tools;
    assert.deepEqual(b.map((t) => t.name), a.map((t) => t.name));
    for (const [i, t] of a.entries()) {
      assert.deepEqual(b[i]!.annotations, t.annotations, t.name);
      assert.equal(b[i]!.description, t.description);
      assert.deepEqual(Object.keys(b[i]!.inputSchema.properties ?? {}).sort(), Object.keys(t.inputSchema.properties ?? {}).sort(), `${t.name}: the same arguments`);
      assert.deepEqual(Object.keys((b[i]!.outputSchema?.properties ?? {}) as object).sort(), Object.keys((t.outputSchema?.properties ?? {}) as object).sort(), `${t.name}: the same output`);
    }
  });

  for (const [how, connect] of [["McpServer", viaMcpServer], ["tool set", viaToolSet]] as const) {
    test(`${how}: an answer, progress, the default model, a failure, bad arguments`, { timeout: 10_000 }, async () => {
      const seen: ChatRequest[] = [];
      const client = await connect(echoBackend(seen));
      const plain = (await client.callTool({ name: "chat_completion", arguments: { prompt: "hello there", system: "be brief" } })) as unknown as { content: { text: string }[]; structuredContent: { model: string } };
      assert.equal(plain.content[0]?.text, "hello there");
      assert.equal(plain.structuredContent.model, "echo-model", "the backend's default model");
      assert.deepEqual(seen[0]?.messages, [{ role: "system", content: "be brief" }, { role: "user", content: "hello there" }]);

      const progress: number[] = [];
      await client.callTool({ name: "chat_completion", arguments: { prompt: "one two three", model: "m" } }, undefined, { onprogress: (p) => progress.push(p.progress) });
      assert.ok(progress.length >= 2 && progress.at(-1) === "one two three".length, progress.join(","));

      const failed = (await client.callTool({ name: "chat_completion", arguments: { prompt: "fail" } })) as { isError?: boolean; content: { text: string }[] };
      assert.equal(failed.isError, true);
      assert.match(failed.content[0]!.text, /on purpose/);

      const bad = await client.callTool({ name: "chat_completion", arguments: { prompt: "x", messages: [{ role: "user", content: "y" }] } }).then(
        (r) => (r as { isError?: boolean }).isError === true,
        (e: unknown) => e instanceof McpError && e.code === ErrorCode.InvalidParams,
      );
      assert.ok(bad, "prompt and messages together are refused");

      const models = (await client.callTool({ name: "list_models", arguments: {} })) as unknown as { structuredContent: { models: { id: string }[] } };
      assert.deepEqual(models.structuredContent.models.map((m) => m.id), ["echo-model"]);
    });
  }
});
