/**
 * Podman as the container smoke test drives it: bounded commands with their output kept for the
 * failure message, a progress line per step, and the flags this kind of machine needs (runc,
 * because crun fails on setrlimit here; chroot isolation for builds, because the default fails on
 * hybrid cgroups). See "Containers without a Docker engine" in the toolchain notes.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));

/** Before `run`: the OCI runtime that works here. */
export const PODMAN_GLOBAL = ["--runtime", "runc"];
/** Every `podman run`: limits runc can set here, and the host's network (the fake upstream is on 127.0.0.1). */
export const RUN_FLAGS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "host"];

const started = Date.now();

/** One readable line per step on stderr, with the time since the test file started. */
export function progress(message: string): void {
  process.stderr.write(`[containers +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

/** Runs `fn` between two progress lines, the second with how long it took. */
export async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  progress(`${name} ...`);
  const result = await fn();
  progress(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return result;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs: number;
  /** Resolve with a non-zero exit instead of throwing. */
  allowFailure?: boolean;
  /** Each stderr line is also passed here as it arrives (for long steps). */
  onStderrLine?: (line: string) => void;
  input?: string;
}

/** Runs a command to completion; throws with the tail of its output when it fails or overruns. */
export function run(command: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { cwd: REPO, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let partial = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
      if (!opts.onStderrLine) return;
      const lines = (partial + d).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) opts.onStderrLine(line);
    });
    proc.stdin.end(opts.input ?? "");
    const shown = `${command} ${args.join(" ")}`;
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${shown}: still running after ${opts.timeoutMs / 1000} s\n${tail(stdout)}\n${tail(stderr)}`));
    }, opts.timeoutMs);
    proc.once("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${shown}: cannot start: ${err.message}`));
    });
    proc.once("close", (code) => {
      clearTimeout(timer);
      if (code !== 0 && !opts.allowFailure) {
        reject(new Error(`${shown}: exit ${code}\n--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`));
      } else resolve({ code, stdout, stderr });
    });
  });
}

export const podman = (args: string[], opts: RunOptions) => run("podman", [...PODMAN_GLOBAL, ...args], opts);

function tail(text: string, lines = 40): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * Build flags for this machine. npm in the build stages reaches the registry through the same
 * TLS-intercepting proxy the host does here, so the host's CA bundle goes in as the build secret
 * the Dockerfile reads (`npm_ca`); elsewhere the file is just the system bundle, which is harmless.
 */
export function buildFlags(): string[] {
  const flags = ["--isolation=chroot", "--pull=never", "--format=docker", "--layers"];
  const ca = [process.env.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt"].find((f) => f && existsSync(f));
  if (ca) flags.push("--secret", `id=npm_ca,src=${ca}`);
  return flags;
}

/** IDs of every image in local storage, intermediate ones included. */
export async function imageIds(): Promise<Set<string>> {
  const { stdout } = await podman(["images", "--all", "--quiet", "--no-trunc"], { timeoutMs: 60_000 });
  return new Set(stdout.split("\n").map((s) => s.trim()).filter(Boolean));
}

export async function imageSize(image: string): Promise<number> {
  const { stdout } = await podman(["image", "inspect", "--format", "{{.Size}}", image], { timeoutMs: 60_000 });
  return Number(stdout.trim());
}

export const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

export { freePort } from "@mcpgw/test-support";

/** Polls `url` until it answers 200 or `timeoutMs` passes. */
export async function waitForHttp(url: string, timeoutMs: number, describe: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s (last: ${last})\n${await describe()}`);
}
