/**
 * Runs the built MCP server the way an MCP client does: the SDK's Client over StdioClientTransport,
 * spawning `node dist/cli.js` with a clean environment (PATH plus what the test gives), stderr
 * piped and kept so tests can check what the server logged (and what it never said).
 */
import type { SpawnOptions } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { DEFAULT_INHERITED_ENV_VARS, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import { LoggingMessageNotificationSchema, type LoggingMessageNotification } from "@modelcontextprotocol/sdk/types.js";
import { runToExit, type RunResult } from "./run-to-exit.ts";

/** The built MCP server bin and its package folder (the cwd an MCP client would not care about, but tests do). */
export const MCP_CLI = fileURLToPath(new URL("../../openai-gateway-mcp/dist/cli.js", import.meta.url));
export const MCP_PACKAGE_DIR = fileURLToPath(new URL("../../openai-gateway-mcp/", import.meta.url));

/** PATH, and nothing else from the test runner: a GATEWAY_URL in the runner's shell must not leak in. */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "", ...env };
}

export interface McpProcess {
  client: Client;
  transport: StdioClientTransport;
  /** Everything the server wrote to stderr so far. */
  stderr(): string;
  /** notifications/message the server sent to this client. */
  logs: LoggingMessageNotification["params"][];
  /** Closes the client (stdin end, then SIGTERM, then SIGKILL: the SDK's own sequence). */
  close(): Promise<void>;
}

export interface ConnectOptions {
  env?: Record<string, string>;
  args?: string[];
  /** Bounds the spawn + initialize handshake. */
  timeoutMs?: number;
}

export async function connectMcp(opts: ConnectOptions = {}): Promise<McpProcess> {
  // The SDK adds HOME, USER, SHELL... to whatever env it is given; undefined drops them again.
  const dropInherited = Object.fromEntries(DEFAULT_INHERITED_ENV_VARS.map((k) => [k, undefined])) as unknown as Record<string, string>;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_CLI, ...(opts.args ?? [])],
    env: { ...dropInherited, ...cleanEnv(opts.env) },
    stderr: "pipe",
    cwd: MCP_PACKAGE_DIR,
  });
  let stderr = "";
  (transport.stderr as unknown as NodeJS.ReadableStream).setEncoding("utf8");
  transport.stderr!.on("data", (chunk: string) => (stderr += chunk));

  const client = new Client({ name: "e2e-test-client", version: "0.0.0" });
  const logs: LoggingMessageNotification["params"][] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
  try {
    await client.connect(transport, { timeout: opts.timeoutMs ?? 15_000 });
  } catch (err) {
    await client.close().catch(() => {});
    throw new Error(`MCP server did not initialize: ${(err as Error).message}\nstderr:\n${stderr}`);
  }
  return { client, transport, stderr: () => stderr, logs, close: () => client.close() };
}

/** Runs the bin to completion (for --help, --version). */
export function runMcp(args: string[], env: Record<string, string> = {}, timeoutMs = 10_000): Promise<RunResult> {
  const options: SpawnOptions = { env: cleanEnv(env), stdio: ["ignore", "pipe", "pipe"] };
  return runToExit(process.execPath, [MCP_CLI, ...args], options, timeoutMs, `openai-gateway-mcp ${args.join(" ")}`);
}

/** The text of a tool result's content, joined. */
export function textOf(result: { [key: string]: unknown }): string {
  const content = (result.content ?? []) as { type: string; text?: string }[];
  return content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

/**
 * Calls a tool and times it: the result, its text and how long it took (`start` is performance.now()
 * when it began). The timeout, unless `options` sets one, is far above any call in these tests:
 * a call that outlives it is a failure of its own.
 */
export async function callTool(mcp: McpProcess, name: string, args: Record<string, unknown> = {}, options: RequestOptions = {}) {
  const start = performance.now();
  const result = await mcp.client.callTool({ name, arguments: args }, undefined, { timeout: 60_000, ...options });
  return { result, text: textOf(result), start, ms: performance.now() - start };
}
