/**
 * The README's run command ends in scripts/start.js: on a machine with no upstream key it must show
 * the whole chain answering — the gateway over HTTP, the tool loop with a real MCP server from npm,
 * a chat session over /chat, then the MCP server's chat_completion through the gateway.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const START = fileURLToPath(new URL("../../../scripts/start.js", import.meta.url));

test("npm start's script shows the gateway and the MCP server answering on the offline demo model", async () => {
  // The chat session it shows is kept in a data directory: a temporary one, not the test's working directory.
  const dataDir = mkdtempSync(join(tmpdir(), "start-data-"));
  const proc = spawn(process.execPath, [START, "--port", "0"], {
    env: { PATH: process.env.PATH ?? "", GATEWAY_DATA_DIR: dataDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  proc.stdout.on("data", (d) => (stdout += d));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no MCP answer in time:\n${stderr}\n${stdout}`)), 30_000);
      proc.stderr.on("data", (d) => {
        stderr += d;
        if (stderr.includes("Stop: Ctrl-C")) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`start.js exited early (${code}):\n${stderr}\n${stdout}`));
      });
    });
    assert.match(stderr, /1\/3 The gateway answered over HTTP \(model mcpgw-offline-demo\):\n\s+\[offline demo\].*Hello from npm start!/);
    assert.match(stderr, /2\/3 The model mcp-gateway used MCP tools \(servers: everything ready; calls: everything\/echo \(ok, [\d.]+ ms\)\):\n\s+\[offline demo\] The tool answered: Echo: Please use echo to say hello from the tool loop/);
    assert.match(stderr, /and as REST: POST \/tools\/everything\/echo answered 200: "Echo: hello over REST"/);
    // The Responses API's own mcp tool, run by the gateway for the demo model (which knows only functions).
    assert.match(stderr, /and in the Responses API: POST \/v1\/responses with \{"type":"mcp","server_label":"everything"\} ran everything\/echo:\n\s+\[offline demo\] The tool answered: Echo: Please use echo to say hello from the Responses API/);
    // The second reply is the demo model's plain answer; the session holds both turns, the tool's included.
    assert.match(stderr, /and in a chat session \(POST \/chat, chat_[\w-]+\)[^\n]*\n\s+you> echo hello from a chat session\n\s+\[offline demo\] The tool answered: Echo: echo hello from a chat session\n\s+you> and this is the second message\n\s+\[offline demo\][^\n]*and this is the second message[^\n]*\n\s+\(the session holds 6 messages/);
    assert.match(stderr, /3\/3 The MCP server \(tools: chat_completion, list_models\) answered chat_completion through the gateway:\n\s+\[offline demo\].*Hello from an MCP client!/);
    assert.doesNotMatch(stderr, /with an error/);
  } finally {
    const exited = new Promise((r) => proc.once("exit", r));
    proc.kill("SIGTERM");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
  // Ctrl-C/SIGTERM reaches the gateway, which drains and says so.
  assert.match(stdout, /"msg":"stopped"/);
});
