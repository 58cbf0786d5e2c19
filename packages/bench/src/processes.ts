/**
 * Child processes of the harness: started pinned to a core, ready when their port answers, measured
 * by resident memory, and always stopped by the harness (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { openSync, readdirSync, readFileSync, closeSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface Started {
  proc: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string | null>;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  cpu: number;
  env?: Record<string, string>;
  cwd?: string;
  /** stdout and stderr go to this file (a contestant's logs cost what they cost in production). */
  logFile?: string;
}

/** Runs `cmd args` under `taskset -c cpu`; taskset execs, so the pid is the program's own. */
export function spawnPinned(cmd: string, args: string[], opts: SpawnOptions): Started {
  const fd = opts.logFile ? openSync(opts.logFile, "a") : "ignore";
  const proc = spawn("taskset", ["-c", String(opts.cpu), cmd, ...args], {
    env: { PATH: process.env.PATH ?? "", ...opts.env },
    cwd: opts.cwd,
    stdio: ["ignore", fd, fd],
  });
  if (typeof fd === "number") closeSync(fd);
  const exited = new Promise<number | string | null>((resolve) => proc.once("exit", (code, signal) => resolve(code ?? signal)));
  return {
    proc,
    pid: proc.pid!,
    exited,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const killed = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!killed) {
        proc.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Polls `url` until it answers with any HTTP status; fails with the log file's tail when it does not. */
export async function waitForHttp(url: string, started: Started, timeoutMs = 20_000, logFile?: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  let exitedWith: number | string | null | undefined;
  started.exited.then((c) => (exitedWith = c));
  while (Date.now() < until) {
    if (exitedWith !== undefined) throw new Error(`exited with ${exitedWith} before answering ${url}${tail(logFile)}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms${tail(logFile)}`);
}

function tail(file: string | undefined): string {
  if (!file) return "";
  try {
    return `:\n${readFileSync(file, "utf8").split("\n").slice(-15).join("\n")}`;
  } catch {
    return "";
  }
}

/** Resident set size of a process and all its descendants, in MiB (nginx is a master and workers). */
export function rssOfTreeMb(pid: number): number {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  let kb = 0;
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
      if (m) kb += Number(m[1]);
    } catch {
      continue;
    }
    todo.push(...(children.get(p) ?? []));
  }
  return kb / 1024;
}

/** A free port on 127.0.0.1 for programs that cannot be told to pick their own (port 0). */
export { freePort } from "@mcpgw/test-support";
