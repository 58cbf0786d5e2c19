/** What the figures were measured on, for the report: a ratio means little without the machine. */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, release, totalmem } from "node:os";
import type { BenchResults } from "./types.ts";

const require = createRequire(import.meta.url);

export function machineInfo(pinning: string): BenchResults["machine"] {
  let os = "Linux";
  try {
    os = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync("/etc/os-release", "utf8"))?.[1] ?? os;
  } catch {
    // not every system has it; "Linux" will do
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    os,
    kernel: release(),
    pinning,
  };
}

/** The measuring side's versions; each contestant adds its own when it starts. */
export function toolVersions(): Record<string, string> {
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return "not installed";
    }
  };
  return {
    node: process.version,
    autocannon: version("autocannon"),
    "@modelcontextprotocol/server-everything": version("@modelcontextprotocol/server-everything"),
  };
}
