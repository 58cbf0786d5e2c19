/**
 * A PostgreSQL server of a test's own (Debian's, installed by scripts/postgres-tools.sh): a fresh
 * cluster in a temp folder on a free port of 127.0.0.1, trust auth for `postgres`, durability off
 * (a test's data is thrown away), gone when stopped. Postgres refuses to run as root: as root, the
 * folder belongs to, and initdb and the server run as, `nobody` (Node's spawn sets the uid and gid
 * and drops root's other groups), so the folder must be somewhere `nobody` can reach.
 */
import { execFile } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { ask, freePort, startService, toolPath } from "./service-process.ts";

export interface PostgresProcess {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

const run = promisify(execFile);

export async function startPostgres(): Promise<PostgresProcess> {
  const bin = await toolPath("postgres-tools.sh");
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const user: { uid?: number; gid?: number } = asRoot ? nobody() : {};
  const dir = mkdtempSync(join(asRoot ? reachableTmp() : tmpdir(), "mcpgw-postgres-"));
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
  chmodSync(dir, 0o700);
  const data = join(dir, "data");
  // --locale=C: the environment's locale may not exist on the machine, and C sorts the same everywhere.
  const initdb = ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"];
  await run(join(bin, "initdb"), initdb, { cwd: dir, timeout: 60_000, ...user }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
    rmSync(dir, { recursive: true, force: true });
    const lines = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim().split("\n").slice(-20).join("\n");
    throw new Error(`initdb failed: ${err.message}\n${lines}`);
  });
  const args = ["-D", data, "-k", dir, "-h", "127.0.0.1", "-p", String(port), "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"];
  const isReady = () => run(join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-q"], { timeout: 5000 }).then(() => true, () => false);
  const service = await startService("postgres", join(bin, "postgres"), args, {
    dir,
    port,
    // SIGINT: Postgres's fast shutdown (ends sessions, no wait for clients to leave).
    signal: "SIGINT",
    ...user,
    ready: async () => (await ask(port, "")) === "connected" && (await isReady()),
  });
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, port, ...service };
}

/** nobody's uid and gid from /etc/passwd (65534 on Debian, and where there is no entry). */
function nobody(): { uid: number; gid: number } {
  const entry = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith("nobody:"))?.split(":");
  return entry ? { uid: Number(entry[2]), gid: Number(entry[3]) } : { uid: 65534, gid: 65534 };
}

/** os.tmpdir() when every folder above it lets others through (TMPDIR may be under /root), else /tmp. */
function reachableTmp(): string {
  for (let d = tmpdir(); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) break;
    if (d === dirname(d)) return tmpdir();
  }
  return "/tmp";
}
