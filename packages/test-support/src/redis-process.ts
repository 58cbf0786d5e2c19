/**
 * A redis-server of a test's own (Debian's, installed by scripts/redis-tools.sh): a free port on
 * 127.0.0.1 (or the port given, so a test can stop Redis and start it again where its clients
 * reconnect), nothing persisted, gone with its temp folder when stopped.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ask, freePort, startService, toolPath } from "./service-process.ts";

export interface RedisProcess {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export async function startRedis(opts: { port?: number } = {}): Promise<RedisProcess> {
  const bin = await toolPath("redis-tools.sh");
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "mcpgw-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir];
  // Ready: it answers PING, and it is this process that answers (INFO's process_id).
  const ready = async (pid: number) => (await ask(port, "*1\r\n$4\r\nPING\r\n")).startsWith("+PONG") && (await ask(port, "*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")).includes(`process_id:${pid}\r\n`);
  const service = await startService("redis-server", bin, args, { dir, port, ready });
  return { url: `redis://127.0.0.1:${port}`, port, ...service };
}
