/**
 * Ending a stdio server's whole process tree. The SDK's StdioClientTransport spawns the command in
 * the gateway's own process group and kills only that one pid; `npx -y pkg` runs
 * npm -> sh -c -> node, and SIGTERM to npm leaves node running as an orphan. The SDK offers no
 * way to spawn into a group of its own, so the tree is read from the process table (/proc on
 * Linux, `ps` elsewhere) and every member is signalled by pid. On Linux each pid is remembered with
 * its start time, so a pid the kernel has since given to another process is never signalled.
 */
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProcessRef {
  pid: number;
  /** Start time in clock ticks since boot (Linux): tells the process from a later one given its pid. */
  start: string | undefined;
}

interface Row extends ProcessRef {
  ppid: number;
  exited: boolean;
}

const POLL_MS = 25;
/** How long to wait for SIGKILLed processes to be gone (it is immediate unless one is stuck in the kernel). */
const KILL_WAIT_MS = 2000;

/** The process and every descendant it has now. */
export async function processTree(pid: number): Promise<ProcessRef[]> {
  const table = await processTable();
  const children = new Map<number, Row[]>();
  for (const row of table) children.set(row.ppid, [...(children.get(row.ppid) ?? []), row]);
  const root = table.find((r) => r.pid === pid);
  const tree: ProcessRef[] = [{ pid, start: root?.start }];
  for (let i = 0; i < tree.length; i++) {
    for (const child of children.get(tree[i]!.pid) ?? []) tree.push({ pid: child.pid, start: child.start });
  }
  return tree;
}

/** SIGTERM to every process still running, SIGKILL after graceMs to those that did not exit; resolves once all are gone. */
export async function endProcesses(refs: ProcessRef[], graceMs: number): Promise<void> {
  let running = await stillRunning(refs);
  signal(running, "SIGTERM");
  const deadline = performance.now() + graceMs;
  while (running.length > 0 && performance.now() < deadline) {
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - performance.now())));
    running = await stillRunning(running);
  }
  signal(running, "SIGKILL");
  const killDeadline = performance.now() + KILL_WAIT_MS;
  while (running.length > 0 && performance.now() < killDeadline) {
    await sleep(POLL_MS);
    running = await stillRunning(running);
  }
}

/** The processes of `refs` that are still the same process and running (a zombie has exited). */
export async function stillRunning(refs: ProcessRef[]): Promise<ProcessRef[]> {
  const alive = await Promise.all(refs.map(isRunning));
  return refs.filter((_, i) => alive[i]);
}

async function isRunning(ref: ProcessRef): Promise<boolean> {
  try {
    process.kill(ref.pid, 0);
  } catch {
    // ESRCH: gone; EPERM: another user's process now holds the pid, not ours to signal.
    return false;
  }
  if (process.platform !== "linux") return true;
  const row = await readStat(ref.pid);
  return row !== undefined && !row.exited && (ref.start === undefined || row.start === ref.start);
}

function signal(refs: ProcessRef[], sig: NodeJS.Signals): void {
  for (const { pid } of refs) {
    try {
      process.kill(pid, sig);
    } catch {
      // exited in between
    }
  }
}

async function processTable(): Promise<Row[]> {
  if (process.platform === "linux") {
    const entries = await readdir("/proc").catch(() => [] as string[]);
    const rows = await Promise.all(entries.filter((e) => /^\d+$/.test(e)).map((e) => readStat(Number(e))));
    return rows.filter((r) => r !== undefined);
  }
  return new Promise((resolve) => {
    execFile("ps", ["-A", "-o", "pid=,ppid="], { timeout: 5000 }, (err, stdout) => {
      if (err) return resolve([]);
      const rows = stdout.split("\n").flatMap((line) => {
        const m = /^\s*(\d+)\s+(\d+)/.exec(line);
        return m ? [{ pid: Number(m[1]), ppid: Number(m[2]), start: undefined, exited: false }] : [];
      });
      resolve(rows);
    });
  });
}

/** /proc/PID/stat: "pid (comm) state ppid ... starttime" (field 22); comm may hold spaces and parentheses. */
async function readStat(pid: number): Promise<Row | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { pid, ppid: Number(fields[1]), start: fields[19], exited: fields[0] === "Z" || fields[0] === "X" };
}
