/**
 * Runs a command once, to its exit, and keeps what it wrote: a bin asked for --help or --version or
 * given a bad config, or `npx ...`. A run that outlives `timeoutMs` is killed and fails with its
 * output so far, so a process that wrongly keeps running cannot hang the test file.
 */
import { spawn, type SpawnOptions } from "node:child_process";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `options` must leave stdout and stderr piped (spawn's default); `what` names the run in a failure. */
export function runToExit(command: string, args: string[], options: SpawnOptions, timeoutMs: number, what: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, options);
    let stdout = "";
    let stderr = "";
    proc.stdout!.on("data", (d) => (stdout += d));
    proc.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`${what} did not exit in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    proc.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
