/**
 * The peers that front a stdio MCP server over Streamable HTTP, each started as its users start it
 * (its own bin, this node binary), pinned to the contestant's core, in front of server-everything:
 *
 * - supergateway (`--outputTransport streamableHttp --stateful`): a child process per session, as
 *   our /mcp/{server} has. Its stateless default spawns a server per POST, which is not a contest.
 *   `--logLevel none`, because at its default it logs every message twice: the peer at its fastest.
 *   It has no listen-address flag and listens on every interface; only 127.0.0.1 is called.
 * - mcp-proxy (`--server stream --host 127.0.0.1`): one server process shared by every session.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { freePort, spawnPinned, waitForHttp } from "../processes.ts";
import type { McpHttpPath, StartContext } from "../types.ts";
import { everythingServer } from "./everything-gateway.ts";

export interface StartedPeer {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

type PeerId = Extract<McpHttpPath, "supergateway" | "mcp-proxy">;

const require_ = createRequire(import.meta.url);

function installed(pkg: string): { bin: string; version: string } {
  const file = require_.resolve(`${pkg}/package.json`);
  const meta = JSON.parse(readFileSync(file, "utf8")) as { version: string; bin: Record<string, string> };
  return { bin: join(dirname(file), meta.bin[pkg]!), version: meta.version };
}

function argsOf(peer: PeerId, port: number): string[] {
  const server = everythingServer();
  if (peer === "mcp-proxy") return ["--port", String(port), "--host", "127.0.0.1", "--server", "stream", "--", server.command, ...server.args];
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const stdio = [server.command, ...server.args].map(quote).join(" ");
  return ["--stdio", stdio, "--outputTransport", "streamableHttp", "--stateful", "--port", String(port), "--logLevel", "none"];
}

export async function startPeer(peer: PeerId, ctx: StartContext): Promise<StartedPeer> {
  const { bin, version } = installed(peer);
  const port = await freePort();
  const logFile = join(ctx.workDir, `${peer}.log`);
  const started = spawnPinned(process.execPath, [bin, ...argsOf(peer, port)], { cpu: ctx.cpu, logFile });
  const url = `http://127.0.0.1:${port}/mcp`;
  try {
    await waitForHttp(url, started, 20_000, logFile);
  } catch (err) {
    await started.stop();
    throw err;
  }
  return { url, pid: started.pid, version, stop: started.stop };
}
