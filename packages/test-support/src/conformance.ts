/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, pinned) run against a URL,
 * one scenario at a time, its checks read from the checks.json it writes. A scenario passes when
 * none of its checks is a failure or a warning.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const SUITE = join(dirname(createRequire(import.meta.url).resolve("@modelcontextprotocol/conformance/package.json")), "dist/index.js");

export interface ConformanceCheck {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO";
  errorMessage?: string;
}

export interface ConformanceRun {
  code: number;
  checks: ConformanceCheck[];
  /** The checks that failed or warned, one line each. */
  problems: string[];
  output: string;
}

/** One run of the suite's CLI with `args`, its output kept in a temporary folder and read back: each scenario's checks, by name. */
async function runSuite(url: string, args: string[]): Promise<{ code: number; scenarios: Map<string, ConformanceCheck[]>; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "conformance-"));
  try {
    const run = await promisify(execFile)(process.execPath, [SUITE, "server", "--url", url, ...args, "-o", dir], { timeout: 5 * 60_000 }).then(
      (r) => ({ code: 0, output: r.stdout + r.stderr }),
      (e: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof e.code === "number" ? e.code : 1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` }),
    );
    const scenarios = new Map<string, ConformanceCheck[]>();
    for (const folder of readdirSync(dir)) {
      // server-<scenario>-<timestamp>
      const name = folder.replace(/^server-/, "").replace(/-\d{4}-\d{2}-\d{2}T[\d-]+Z$/, "");
      scenarios.set(name, JSON.parse(readFileSync(join(dir, folder, "checks.json"), "utf8")) as ConformanceCheck[]);
    }
    return { ...run, scenarios };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One scenario. */
export async function runConformance(url: string, scenario: string): Promise<ConformanceRun> {
  const { code, scenarios, output } = await runSuite(url, ["--scenario", scenario]);
  const checks = scenarios.get(scenario) ?? [];
  const problems = checks.filter((c) => c.status === "FAILURE" || c.status === "WARNING").map((c) => `${c.status} ${c.id}: ${c.errorMessage ?? ""}`);
  return { code, checks, problems, output };
}

/** The whole suite (`--suite all`, pending scenarios too) in one run: each scenario's checks, by name. */
export function runConformanceSuite(url: string): Promise<{ code: number; scenarios: Map<string, ConformanceCheck[]>; output: string }> {
  return runSuite(url, ["--suite", "all"]);
}
