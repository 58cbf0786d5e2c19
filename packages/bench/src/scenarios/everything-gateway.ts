/**
 * What the tool-path scenarios share: our gateway with the reference MCP server
 * (@modelcontextprotocol/server-everything, stdio) configured as `everything` and a tool-enabled
 * model over the static upstream, and the floor every tool path is measured from: an MCP SDK Client
 * talking to its own server-everything over stdio. Every MCP server here runs on the contestant's
 * core (the gateway's children inherit its pinning; the direct one is pinned alike).
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { SERVER_EVERYTHING } from "@mcpgw/test-support";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { MCPGW_CLIENT_KEY, MCPGW_PACKAGE, startGatewayAt } from "../contestants/mcpgw.ts";
import type { StartContext } from "../types.ts";

export const SERVER = "everything";
export const ECHO_ARGS = { message: "bench" };
export const ECHO_TEXT = "Echo: bench";
/** The tool-enabled model: its one tool is server-everything's echo. */
export const TOOLED_MODEL = "tooled";
/** The static upstream's model that calls the first offered tool, then answers. */
export const TOOL_CALLING_MODEL = "bench-tool";

/** server-everything over stdio, started with this very node binary (no npx, no network). */
export function everythingServer(): { command: string; args: string[] } {
  return { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] };
}

/** The gateway's config: the upstream as passthrough, `everything` (required: /ready is 200 once it is up), the tool-enabled model. */
export function toolPathsConfig(upstreamOrigin: string): object {
  return {
    providers: { up: { type: "openai", baseUrl: `${upstreamOrigin}/v1`, apiKey: "${OPENAI_API_KEY}" } },
    passthrough: "up",
    models: { [TOOLED_MODEL]: { targets: `up/${TOOL_CALLING_MODEL}`, tools: [`${SERVER}/echo`] } },
    mcpServers: { [SERVER]: { ...everythingServer(), required: true } },
  };
}

export type ToolGateway = Awaited<ReturnType<typeof startGatewayAt<string>>> & { origin: string };

/** Our gateway with toolPathsConfig, on the contestant's core, once `everything` is ready. Its key (GATEWAY_API_KEYS) may use every tool. */
export async function startToolGateway(id: string, ctx: StartContext): Promise<ToolGateway> {
  const g = await startGatewayAt(MCPGW_PACKAGE, id, `mcpgw openai-gateway (${id})`, ctx, {
    config: toolPathsConfig(ctx.upstreamOrigin),
    env: { GATEWAY_API_KEYS: MCPGW_CLIENT_KEY },
    key: MCPGW_CLIENT_KEY,
  });
  const origin = g.baseUrl.replace(/\/v1$/, "");
  try {
    await waitForServersReady(origin, 1, 30_000);
  } catch (err) {
    await g.stop();
    throw err;
  }
  return { ...g, origin };
}

/** Polls /ready until it answers 200 with `servers` MCP servers, every one ready (or `signal` gives up). */
export async function waitForServersReady(origin: string, servers: number, timeoutMs: number, pollMs = 50, signal?: AbortSignal): Promise<void> {
  const until = performance.now() + timeoutMs;
  let last = "no answer";
  while (performance.now() < until && !signal?.aborted) {
    try {
      const res = await fetch(`${origin}/ready`, { signal: AbortSignal.timeout(1000) });
      const body = (await res.json()) as { mcpServers?: Array<{ state: string }> };
      const list = body.mcpServers ?? [];
      if (res.status === 200 && list.length === servers && list.every((s) => s.state === "ready")) return;
      last = `${res.status} ${JSON.stringify(body.mcpServers ?? [])}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(pollMs);
  }
  throw new Error(`${origin}/ready: not all ${servers} MCP servers ready within ${timeoutMs} ms (last: ${last.slice(0, 300)})`);
}

/** An MCP SDK Client connected over `transport`, its tools listed first as a real client does (which also arms the SDK's output checks). */
export async function connectClient(transport: Transport, tool: string): Promise<Client> {
  const client = new Client({ name: "mcpgw-bench", version: "0.0.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    if (!tools.some((t) => t.name === tool)) throw new Error(`no tool '${tool}' in ${tools.map((t) => t.name).join(", ")}`);
  } catch (err) {
    await client.close();
    throw err;
  }
  return client;
}

/** The floor's transport: stdio to a server-everything of its own, pinned to `cpu`. */
export function directTransport(cpu: number): Transport {
  const server = everythingServer();
  return new StdioClientTransport({
    command: "taskset",
    args: ["-c", String(cpu), server.command, ...server.args],
    env: { PATH: process.env.PATH ?? "" },
    stderr: "ignore",
  });
}

/** The floor: a stdio Client of a server-everything of its own. */
export function directClient(cpu: number): Promise<Client> {
  return connectClient(directTransport(cpu), "echo");
}

/** One echo call; throws unless the answer is server-everything's. */
export async function callEcho(client: Client, name: string): Promise<string> {
  const result = await client.callTool({ name, arguments: ECHO_ARGS });
  const first = (result.content as Array<{ type: string; text?: string }> | undefined)?.[0];
  if (result.isError || first?.text !== ECHO_TEXT) throw new Error(`${name}: unexpected result ${JSON.stringify(result).slice(0, 200)}`);
  return first.text;
}

/** Resident memory of one process (not its children), in KiB. */
export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}
