/**
 * Runs the built MCP server over Streamable HTTP (`--transport http --port 0`) as a real process,
 * waits for the address it logs, and connects the SDK's Client to it on request.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { cleanEnv, MCP_CLI, MCP_PACKAGE_DIR } from "./mcp-process.ts";

export interface McpHttpProcess {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  proc: ChildProcess;
  stderr(): string;
  /** A connected SDK Client; `headers` go on every request (Authorization). */
  connect(headers?: Record<string, string>): Promise<{ client: Client; transport: StreamableHTTPClientTransport }>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export async function startMcpHttp(opts: { env?: Record<string, string>; args?: string[]; timeoutMs?: number } = {}): Promise<McpHttpProcess> {
  const proc = spawn(process.execPath, [MCP_CLI, "--transport", "http", "--port", "0", ...(opts.args ?? [])], {
    env: cleanEnv(opts.env),
    cwd: MCP_PACKAGE_DIR,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`openai-gateway-mcp did not listen:\n${stderr}`)), opts.timeoutMs ?? 10_000);
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (d: string) => {
      stderr += d;
      const m = /listening on (http:\/\/\S+\/mcp)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`openai-gateway-mcp exited with ${code} before listening:\n${stderr}`));
    });
  });
  return {
    url,
    origin: new URL(url).origin,
    proc,
    stderr: () => stderr,
    exited,
    async connect(headers = {}) {
      const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
      const client = new Client({ name: "http-test-client", version: "0.0.0" });
      await client.connect(transport, { timeout: 15_000 });
      return { client, transport };
    },
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}
