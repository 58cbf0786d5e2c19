/**
 * MCP cold start: from just before spawn to the moment the initialize response is read on stdout.
 * A raw newline-delimited JSON-RPC reader rather than the SDK Client, so the measuring side does as
 * little as possible; the request is written at once and waits in the pipe until the server reads.
 */
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

/** One stdio MCP server to start: `node <args>` with this environment (on top of PATH only). */
export interface StdioServer {
  args: string[];
  env: Record<string, string>;
}

const INIT_ID = 1;
const INIT_TIMEOUT_MS = 20_000;
const initializeLine =
  JSON.stringify({
    jsonrpc: "2.0",
    id: INIT_ID,
    method: "initialize",
    params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "mcpgw-bench", version: "0.0.0" } },
  }) + "\n";

/** Milliseconds from spawn to the initialize result; the child is stopped (and has exited) on return. */
export async function coldStartMs(server: StdioServer, cpu: number): Promise<number> {
  const startedAt = performance.now();
  // Both servers are started the same way: taskset (which execs) and this very node binary, no npx.
  const child = spawn("taskset", ["-c", String(cpu), process.execPath, ...server.args], {
    env: { PATH: process.env.PATH ?? "", ...server.env },
    stdio: ["pipe", "pipe", "ignore"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    child.stdin.on("error", () => {
      // the child died before reading; the wait below reports it
    });
    child.stdin.write(initializeLine);
    const readyAt = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no initialize result within ${INIT_TIMEOUT_MS} ms`)), INIT_TIMEOUT_MS);
      let rest = "";
      child.stdout.setEncoding("utf8");
      child.stdout.on("data", (chunk: string) => {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        for (const line of lines) {
          const msg = parse(line);
          if (msg?.id !== INIT_ID) continue;
          const at = performance.now();
          clearTimeout(timer);
          if (msg.result) resolve(at);
          else reject(new Error(`initialize failed: ${JSON.stringify(msg.error)}`));
        }
      });
      exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`exited with ${child.exitCode ?? child.signalCode} before answering initialize`));
      });
    });
    return readyAt - startedAt;
  } finally {
    await stop(child, exited);
  }
}

function parse(line: string): { id?: unknown; result?: unknown; error?: unknown } | undefined {
  try {
    return JSON.parse(line);
  } catch {
    return undefined; // not ours to judge here: a stray line on stdout only delays the answer
  }
}

async function stop(child: ReturnType<typeof spawn>, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])) return;
  child.kill("SIGKILL");
  await exited;
}

/** `runs` cold starts of each server, alternating ours and theirs so drift hits both alike. */
export async function coldStarts(
  ours: StdioServer,
  theirs: StdioServer,
  opts: { runs: number; cpu: number; log(line: string): void },
): Promise<{ ours: number[]; theirs: number[] }> {
  const samples = { ours: [] as number[], theirs: [] as number[] };
  const total = opts.runs * 2;
  for (let i = 0; i < opts.runs; i++) {
    // Swap who goes first each round: whoever follows a just-killed process may see a warmer page cache.
    const order = i % 2 === 0 ? (["ours", "theirs"] as const) : (["theirs", "ours"] as const);
    for (const who of order) {
      samples[who].push(await coldStartMs(who === "ours" ? ours : theirs, opts.cpu));
      opts.log(`mcp cold start ${samples.ours.length + samples.theirs.length}/${total}`);
    }
  }
  return samples;
}
