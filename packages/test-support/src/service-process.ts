/**
 * What the tests' private services (redis-server, postgres, nginx) share: the project script that
 * installs the Debian package when missing (its last stdout line names the binary), a free port on
 * 127.0.0.1, a wait until the port answers, and a stop by PID that waits for the exit and removes
 * the service's temp folder. A service that fails to start says so with its last lines of output.
 * Each gets its stop signal when the test process dies (setpriv --pdeathsig), so a test killed by
 * its runner's timeout leaves no server running (only the temp folder).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** The repository's scripts/ (src/ and dist/ are both two levels below the repository root's packages/). */
const SCRIPTS = fileURLToPath(new URL("../../../scripts/", import.meta.url));
const installed = new Map<string, Promise<string>>();

/** Runs scripts/NAME (installing from apt when needed, once per process) and returns its last stdout line. */
export function toolPath(script: string): Promise<string> {
  let found = installed.get(script);
  if (!found) {
    found = promisify(execFile)("bash", [`${SCRIPTS}${script}`], { timeout: 10 * 60_000 }).then(
      ({ stdout }) => stdout.trim().split("\n").at(-1)!,
      (err: Error & { stderr?: string }) => {
        installed.delete(script); // the next call tries again
        throw new Error(`scripts/${script} failed:\n${(err.stderr ?? err.message).trim()}`);
      },
    );
    installed.set(script, found);
  }
  return found;
}

/** util-linux's setpriv, to give a service a parent-death signal: it goes when the test process does, even when that is killed. */
const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  pid: number;
  /** Stops it (SIGTERM, or the service's own shutdown signal; SIGKILL after 5 s), waits for the exit, removes its folder. Twice is harmless. */
  stop(): Promise<void>;
}

/**
 * Spawns a service that is to listen on `port` and resolves once `ready(pid)` holds, or rejects with
 * its output when it exits or takes longer than `timeoutMs`. A port something already answers on
 * is refused first: that answer would pass for the new service's (a Redis restarted on its port
 * while the old one still runs).
 */
export async function startService(name: string, command: string, args: string[], opts: { dir: string; port: number; ready: (pid: number) => Promise<boolean>; signal?: NodeJS.Signals; timeoutMs?: number; uid?: number; gid?: number }): Promise<ServiceProcess> {
  if (await ask(opts.port, "").then(() => true, () => false)) {
    rmSync(opts.dir, { recursive: true, force: true });
    throw new Error(`${name}: port ${opts.port} of 127.0.0.1 is already in use`);
  }
  const signal = opts.signal ?? "SIGTERM";
  // setpriv execs the service, so the PID is the service's own.
  const [file, argv] = SETPRIV ? [SETPRIV, ["--pdeathsig", signal, "--", command, ...args]] : [command, args];
  const proc: ChildProcess = spawn(file, argv, { cwd: opts.dir, stdio: ["ignore", "pipe", "pipe"], ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}) });
  const output: string[] = [];
  for (const s of [proc.stdout!, proc.stderr!]) {
    s.on("data", (d: Buffer) => {
      output.push(...d.toString().split("\n").filter(Boolean));
      if (output.length > 200) output.splice(0, output.length - 200);
    });
  }
  const exited = new Promise<void>((resolve) => {
    proc.once("exit", () => resolve());
    proc.once("error", (err) => (output.push(String(err)), resolve())); // not spawned (ENOENT, EACCES)
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(opts.dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (gone) {
      rmSync(opts.dir, { recursive: true, force: true });
      throw new Error(`${name} exited at start:\n${output.slice(-20).join("\n")}`);
    }
    if (await opts.ready(proc.pid!).catch(() => false)) return { pid: proc.pid!, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${name} did not get ready in time:\n${output.slice(-20).join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Sends `request` to 127.0.0.1:port and resolves with the first bytes of the answer ("" when there are none in 1 s). */
export function ask(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    const timer = setTimeout(() => (socket.destroy(), resolve("")), 1000);
    socket.once("error", (err) => (clearTimeout(timer), reject(err)));
    socket.once("connect", () => {
      if (request) socket.write(request);
      else (clearTimeout(timer), socket.end(), resolve("connected"));
    });
    socket.once("data", (d) => (clearTimeout(timer), socket.end(), resolve(d.toString())));
  });
}
