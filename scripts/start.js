#!/usr/bin/env node
/**
 * `npm start`: runs the gateway in the foreground and shows it answering. Once it is ready, sends
 * one chat completion through it (to the offline demo model when no upstream is configured) and
 * prints the answer, then keeps serving until Ctrl-C. Flags after `npm start --` go to the gateway.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../packages/openai-gateway/dist/cli.js", import.meta.url));
const gateway = spawn(process.execPath, [bin, ...process.argv.slice(2)], { stdio: ["ignore", "pipe", "inherit"] });
const say = (text) => process.stderr.write(`\n[npm start] ${text}\n\n`);

let shown = false;
gateway.stdout.setEncoding("utf8");
gateway.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  const m = /listening on (http:\/\/[^"\s]+)/.exec(chunk);
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
  say(
    `The gateway answered (model ${body.model}):\n  ${body.choices[0].message.content}\n\n` +
      `Try it yourself:\n  curl ${origin}/v1/chat/completions -H 'content-type: application/json'` +
      `${key ? " -H 'authorization: Bearer YOUR_CLIENT_KEY'" : ""} -d '{"model":"${model}","messages":[{"role":"user","content":"Hi"}]}'\n` +
      `Metrics: ${origin}/metrics   Stop: Ctrl-C`,
  );
}
