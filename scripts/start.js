#!/usr/bin/env node
/**
 * `npm start`: runs the gateway in the foreground and shows the whole chain answering. Once the
 * gateway is ready it sends one chat completion over HTTP, then starts the MCP server
 * (openai-gateway-mcp) the way an MCP client does, over stdio, and calls its chat_completion tool
 * through the gateway (the offline demo model when no upstream is configured). Then it keeps
 * serving until Ctrl-C. Flags after `npm start --` go to the gateway.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const bin = fileURLToPath(new URL("../packages/openai-gateway/dist/cli.js", import.meta.url));
const mcpBin = fileURLToPath(new URL("../packages/openai-gateway-mcp/dist/cli.js", import.meta.url));
// The gateway's stdout is piped here (to see when it listens), so it would log JSON lines: ask for
// readable ones when this terminal will show them.
const env = process.stdout.isTTY && !process.env.LOG_FORMAT ? { ...process.env, LOG_FORMAT: "pretty" } : process.env;
const gateway = spawn(process.execPath, [bin, ...process.argv.slice(2)], { stdio: ["ignore", "pipe", "inherit"], env });
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
gateway.on("exit", (code) => process.exit(code ?? 0));

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
  say(`1/2 The gateway answered over HTTP (model ${body.model}):\n  ${body.choices[0].message.content}`);

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
      `2/2 The MCP server (tools: ${tools.map((t) => t.name).join(", ")}) answered chat_completion through the gateway` +
        `${result.isError ? " with an error" : ""}:\n  ${text}\n\n` +
        `Try it yourself:\n  curl ${origin}/v1/chat/completions -H 'content-type: application/json'` +
        `${key ? " -H 'authorization: Bearer YOUR_CLIENT_KEY'" : ""} -d '{"model":"${model}","messages":[{"role":"user","content":"Hi"}]}'\n` +
        `  npx @modelcontextprotocol/inspector --cli -e GATEWAY_URL=${origin} -e GATEWAY_API_KEY=${key ? "YOUR_CLIENT_KEY" : "local-demo"} npx openai-gateway-mcp --method tools/list\n` +
        `Metrics: ${origin}/metrics   Stop: Ctrl-C`,
    );
  } finally {
    await mcp.close();
  }
}
