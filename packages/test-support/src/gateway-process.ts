/**
 * Starts the built gateway bin as a real process on 127.0.0.1 (port 0), the way a user runs it,
 * and keeps every line it logs so tests can check what it said (and what it never said).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { runToExit, type RunResult } from "./run-to-exit.ts";

/** The built gateway bin (src/ and dist/ are both one level below this package, beside the gateway's). */
export const GATEWAY_BIN = fileURLToPath(new URL("../../openai-gateway/dist/cli.js", import.meta.url));

export interface GatewayProcess {
  /** http://127.0.0.1:PORT */
  origin: string;
  /** http://127.0.0.1:PORT/v1, for the openai SDK's baseURL */
  baseURL: string;
  proc: ChildProcess;
  /** The file `config` was written to (passed as --config), for a test that rewrites it; removed when the gateway exits. */
  configFile: string | undefined;
  /** Everything written to stdout and stderr, line by line. */
  lines: string[];
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface StartOptions {
  /** Environment on top of a clean one (PATH only): nothing leaks in from the test runner. */
  env?: Record<string, string>;
  /** Written to a temp YAML (or JSON) file and passed as --config. */
  config?: object;
  args?: string[];
  /** `tools`: the bin's one-server tools command (`openai-gateway tools --port 0 ARGS`). */
  subcommand?: "tools";
  timeoutMs?: number;
}

export async function startGateway(opts: StartOptions = {}): Promise<GatewayProcess> {
  const args = [GATEWAY_BIN, ...(opts.subcommand ? [opts.subcommand] : []), "--port", "0", ...(opts.args ?? [])];
  let configDir: string | undefined;
  let configFile: string | undefined;
  if (opts.config) {
    configDir = mkdtempSync(join(tmpdir(), "gw-config-"));
    configFile = join(configDir, "gateway.json");
    writeFileSync(configFile, JSON.stringify(opts.config, null, 2));
    args.push("--config", configFile);
  }
  // Its files (chat sessions) go to a directory of its own, gone when it exits, unless the test names one.
  const dataDir = opts.env?.GATEWAY_DATA_DIR ? undefined : mkdtempSync(join(tmpdir(), "gw-data-"));
  const proc = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? "", LOG_LEVEL: "info", ...(dataDir ? { GATEWAY_DATA_DIR: dataDir } : {}), ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) =>
    proc.once("exit", (code) => {
      for (const dir of [configDir, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const origin = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${lines.join("\n")}`)), opts.timeoutMs ?? 10_000);
    const onLine = (line: string) => {
      lines.push(line);
      const m = /listening on (https?:\/\/[\d.]+:\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    collectLines(proc.stdout!, onLine);
    collectLines(proc.stderr!, onLine);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited with ${code} before listening:\n${lines.join("\n")}`));
    });
  });
  return {
    origin,
    baseURL: `${origin}/v1`,
    proc,
    configFile,
    lines,
    exited,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Runs the bin to completion (for --help, --version, config errors). */
export function runGateway(args: string[], env: Record<string, string> = {}, timeoutMs = 10_000): Promise<RunResult> {
  const options = { env: { PATH: process.env.PATH ?? "", ...env } };
  return runToExit(process.execPath, [GATEWAY_BIN, ...args], options, timeoutMs, `gateway ${args.join(" ")}`);
}

function collectLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    for (const p of parts) onLine(p);
  });
  stream.on("end", () => {
    if (rest) onLine(rest);
  });
}

/** A config that points one provider at an upstream URL, with one client key per entry of `clients`. */
export function configFor(upstreamUrl: string, extra: Record<string, unknown> = {}): object {
  return {
    providers: { fake: { type: "openai", baseUrl: upstreamUrl, apiKey: "${UPSTREAM_KEY}" } },
    passthrough: "fake",
    ...extra,
  };
}

/**
 * The fake upstream and a gateway in front of it (configFor plus `extra`) that lets `clientKey` in.
 * If the gateway does not start, the upstream is closed again before the error is thrown.
 */
export async function startGatewayOverFakeUpstream(opts: {
  upstreamKey: string;
  clientKey: string;
  extra?: Record<string, unknown>;
}): Promise<{ upstream: FakeUpstream; gateway: GatewayProcess }> {
  const upstream = await startFakeUpstream();
  try {
    const gateway = await startGateway({
      env: { UPSTREAM_KEY: opts.upstreamKey, GATEWAY_API_KEYS: opts.clientKey },
      config: configFor(upstream.url, opts.extra),
    });
    return { upstream, gateway };
  } catch (err) {
    await upstream.close();
    throw err;
  }
}
