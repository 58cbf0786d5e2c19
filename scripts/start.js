#!/usr/bin/env node
/**
 * `npm start`: runs the gateway in the foreground and shows the whole chain answering. Once the
 * gateway is ready it sends one chat completion over HTTP; then one through the model
 * `mcp-gateway`, which uses a tool of a real MCP server from npm (@modelcontextprotocol/server-everything,
 * started by the gateway over stdio) unless the user gave MCP servers of their own; then it starts
 * the MCP server (openai-gateway-mcp) the way an MCP client does, over stdio, and calls its
 * chat_completion tool through the gateway (the offline demo model when no upstream is configured).
 * With the demo's MCP server it also calls a tool over REST (/tools, as mcpo serves tools), and
 * holds a two-message chat session over /chat (the gateway keeps the conversation).
 * Then it keeps serving until Ctrl-C. Flags after `npm start --` go to the gateway.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const bin = fileURLToPath(new URL("../packages/openai-gateway/dist/cli.js", import.meta.url));
const mcpBin = fileURLToPath(new URL("../packages/openai-gateway-mcp/dist/cli.js", import.meta.url));
// The gateway's stdout is piped here (to see when it listens), so it would log JSON lines: ask for
// readable ones when this terminal will show them.
const env = process.stdout.isTTY && !process.env.LOG_FORMAT ? { ...process.env, LOG_FORMAT: "pretty" } : { ...process.env };
const args = process.argv.slice(2);
// Without MCP servers of the user's own, the demo gets one from npm, so the tool loop shows too.
const ownMcp = args.some((a) => a === "--config" || a === "-c" || a.startsWith("--config=") || a.startsWith("--mcp-config")) || process.env.MCP_CONFIG;
let demoMcp;
if (!ownMcp) {
  const everything = join(dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/server-everything/package.json")), "dist", "index.js");
  demoMcp = mkdtempSync(join(tmpdir(), "mcpgw-start-"));
  const file = join(demoMcp, "mcp.json");
  writeFileSync(file, JSON.stringify({ mcpServers: { everything: { command: process.execPath, args: [everything, "stdio"] } } }, null, 2));
  env.MCP_CONFIG = file;
}
const gateway = spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "inherit"], env });
const say = (text) => process.stderr.write(`\n[npm start] ${text}\n\n`);

let shown = false;
gateway.stdout.setEncoding("utf8");
gateway.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  const m = /listening on (https?:\/\/[\w.:[\]-]+)/.exec(chunk);
  if (m && !shown) {
    shown = true;
    showItAnswering(m[1]).catch((err) => say(`the self-check request failed: ${err.message}`));
  }
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => gateway.kill(signal));
gateway.on("exit", (code) => {
  if (demoMcp) rmSync(demoMcp, { recursive: true, force: true });
  process.exit(code ?? 0);
});

async function showItAnswering(origin) {
  const key = (process.env.GATEWAY_API_KEYS ?? "").split(",")[0]?.trim();
  const headers = { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) };
  const models = await (await fetch(`${origin}/v1/models`, { headers })).json();
  const model = models.data?.[0]?.id;
  if (!model) return say(`GET /v1/models answered ${JSON.stringify(models)}; no self-check request sent.`);
  const res = await fetch(`${origin}/v1/chat/completions`, {
    method: "POST",
    headers,
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Hello from npm start!" }] }),
  });
  const body = await res.json();
  if (!res.ok) return say(`POST /v1/chat/completions answered ${res.status}: ${body.error?.message}`);
  say(`1/3 The gateway answered over HTTP (model ${body.model}):\n  ${body.choices[0].message.content}`);

  // A tool-enabled model: the gateway runs the MCP tools the model calls, then answers.
  if (models.data.some((m) => m.id === "mcp-gateway")) {
    const ready = await waitForMcpServers(origin);
    const tooled = await fetch(`${origin}/v1/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "mcp-gateway", messages: [{ role: "user", content: "Please use echo to say hello from the tool loop" }] }),
    });
    const answer = await tooled.json();
    if (!tooled.ok) say(`POST /v1/chat/completions (mcp-gateway) answered ${tooled.status}: ${answer.error?.message}`);
    else {
      const calls = (answer.mcpgw?.tool_calls ?? []).map((c) => `${c.server}/${c.tool} (${c.outcome}, ${c.ms} ms)`).join(", ") || "none";
      say(`2/3 The model mcp-gateway used MCP tools (servers: ${ready.join(", ")}; calls: ${calls}):\n  ${answer.choices[0].message.content}`);
    }
    // The same tools as REST endpoints, as mcpo serves them (docs/openapi-tools.md).
    if (!ownMcp) {
      const rest = await fetch(`${origin}/tools/everything/echo`, { method: "POST", headers, body: JSON.stringify({ message: "hello over REST" }) });
      const restAnswer = await rest.json();
      say(`    and as REST: POST /tools/everything/echo answered ${rest.status}: ${JSON.stringify(restAnswer)}   (every tool: ${origin}/tools/docs)`);
      // The Responses API's own MCP tools, run by the gateway for a model that knows only functions (docs/responses-api.md).
      const responded = await fetch(`${origin}/v1/responses`, {
        method: "POST",
        headers,
        body: JSON.stringify({
          model,
          input: "Please use echo to say hello from the Responses API",
          tools: [{ type: "mcp", server_label: "everything", allowed_tools: ["echo"], require_approval: "never" }],
        }),
      });
      const response = await responded.json();
      if (!responded.ok) say(`    POST /v1/responses with an mcp tool answered ${responded.status}: ${response.error?.message}`);
      else {
        const call = response.output.find((i) => i.type === "mcp_call");
        const text = response.output.find((i) => i.type === "message")?.content?.[0]?.text ?? "";
        say(`    and in the Responses API: POST /v1/responses with {"type":"mcp","server_label":"everything"} ran ${call ? `${call.server_label}/${call.name}` : "no tool"}:\n  ${text}`);
      }
      await showChatSession(origin, headers);
    }
  }

  // An MCP client starts the MCP server as a child process and talks to it over stdin/stdout.
  // With no client keys the gateway accepts any key, but the MCP server still needs one set.
  const mcp = new Client({ name: "npm-start", version: "1.0.0" });
  await mcp.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [mcpBin],
      env: { PATH: process.env.PATH ?? "", GATEWAY_URL: origin, GATEWAY_API_KEY: key || "local-demo", DEFAULT_MODEL: model, LOG_LEVEL: "warn" },
      stderr: "inherit",
    }),
  );
  try {
    const { tools } = await mcp.listTools();
    const result = await mcp.callTool({ name: "chat_completion", arguments: { prompt: "Hello from an MCP client!" } });
    const text = result.content?.[0]?.text ?? JSON.stringify(result);
    say(
      `3/3 The MCP server (tools: ${tools.map((t) => t.name).join(", ")}) answered chat_completion through the gateway` +
        `${result.isError ? " with an error" : ""}:\n  ${text}\n\n` +
        `Try it yourself:\n  curl ${origin}/v1/chat/completions -H 'content-type: application/json'` +
        `${key ? " -H 'authorization: Bearer YOUR_CLIENT_KEY'" : ""} -d '{"model":"${model}","messages":[{"role":"user","content":"Hi"}]}'\n` +
        (models.data.some((m) => m.id === "mcp-gateway")
          ? `  the same with "model":"mcp-gateway" and a message that asks for a tool ("use echo to say hi") runs the tool loop\n` +
            `  the MCP tools as REST endpoints with OpenAPI docs: ${origin}/tools/docs\n` +
            `  a chat in this terminal, the gateway keeping the conversation: npx openai-gateway chat --url ${origin}${key ? " --key YOUR_CLIENT_KEY" : ""}\n`
          : "") +
        `  npx @modelcontextprotocol/inspector --cli -e GATEWAY_URL=${origin} -e GATEWAY_API_KEY=${key ? "YOUR_CLIENT_KEY" : "local-demo"} npx openai-gateway-mcp --method tools/list\n` +
        `Metrics: ${origin}/metrics   Stop: Ctrl-C`,
    );
  } finally {
    await mcp.close();
  }
}

/** Two messages of one chat session: the second is answered with the first in its history. */
async function showChatSession(origin, headers) {
  const post = async (body) => {
    const res = await fetch(`${origin}/chat`, { method: "POST", headers, body: JSON.stringify(body) });
    const answer = await res.json();
    if (!res.ok) throw new Error(`POST /chat answered ${res.status}: ${answer.error?.message}`);
    return answer;
  };
  const first = await post({ message: "echo hello from a chat session" });
  const second = await post({ message: "and this is the second message", session_id: first.session_id });
  const history = await (await fetch(`${origin}/chat/${first.session_id}`, { headers })).json();
  say(
    `    and in a chat session (POST /chat, ${first.session_id}): the gateway keeps the conversation\n` +
      `  you> echo hello from a chat session\n  ${first.response}\n  you> and this is the second message\n  ${second.response}\n` +
      `  (the session holds ${history.messages?.length} messages, tool calls included; it is kept in .mcpgw-data or --data-dir)`,
  );
}

/** The MCP servers once /ready shows them all ready (or after 20 s, whatever they are). */
async function waitForMcpServers(origin) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await (await fetch(`${origin}/ready`)).json();
    const servers = ready.mcpServers ?? [];
    if (servers.every((s) => s.state === "ready") || Date.now() > deadline) return servers.map((s) => `${s.name} ${s.state}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
