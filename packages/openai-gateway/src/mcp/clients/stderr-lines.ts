/**
 * A stdio server's stderr in the gateway's log: line by line, tagged with the server's name
 * (`{ mcpServer, line }`), each line clipped and scrubbed of the server's configured secrets, at
 * most LINES_PER_SECOND lines a second. The last line is kept: when a server exits before it is
 * ready, that line usually says why, and it goes into the server's lastError.
 */
import type { Readable } from "node:stream";
import { clip } from "../../client-text.ts";
import { createLineBudget } from "./line-budget.ts";
import type { RegistryLog } from "./types.ts";

export const MAX_LINE = 2048;
export const LINES_PER_SECOND = 50;

export interface StderrLines {
  /** The last non-empty line, clipped and scrubbed. */
  lastLine(): string | undefined;
}

export function logStderrLines(stream: Readable, server: string, log: RegistryLog, scrub: (s: string) => string): StderrLines {
  const budget = createLineBudget(LINES_PER_SECOND, (count) =>
    log.warn({ mcpServer: server, suppressed: count }, `MCP server stderr: suppressed ${count} lines`),
  );
  let last: string | undefined;
  let partial = "";
  // Set while the rest of an over-long line is skipped (it was logged clipped already).
  let skipping = false;

  const emit = (raw: string) => {
    const line = clip(scrub(raw.replace(/\r$/, "")), MAX_LINE);
    if (line.trim() === "") return;
    last = line;
    if (budget.take()) log.info({ mcpServer: server, line }, "MCP server stderr");
  };
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    const parts = (partial + chunk).split("\n");
    partial = parts.pop()!;
    for (const part of parts) {
      if (!skipping) emit(part);
      skipping = false;
    }
    if (!skipping && partial.length > MAX_LINE) {
      emit(partial);
      skipping = true;
    }
    if (skipping) partial = "";
  });
  stream.on("end", () => {
    if (partial && !skipping) emit(partial);
    budget.flush();
  });
  // A stderr pipe that fails (EPIPE after the child died) is no reason to crash the gateway.
  stream.on("error", () => {});
  return { lastLine: () => last };
}
