/**
 * The gateway's logger: pino, JSON lines by default (what log collectors read), readable lines
 * (pino-pretty, loaded only then) when stdout is a terminal or LOG_FORMAT=pretty asks for them. Whatever a log object carries, no
 * string in it is longer than MAX_LOGGED_STRING: a client's 1 MB model name would otherwise make
 * a 1 MB line, and such lines came out spliced and lost under load.
 */
import { createRequire } from "node:module";
import { pino, type DestinationStream, type Logger } from "pino";
import { clip } from "../client-text.ts";
import type { LogFormat, LogLevel } from "../config/types.ts";

export const MAX_LOGGED_STRING = 2048;

export interface GatewayLogger {
  logger: Logger;
  /** Write out buffered lines (before process.exit). */
  flush(): void;
}

export function createLogger(level: LogLevel, format: LogFormat, destination?: DestinationStream): GatewayLogger {
  const out = destination ?? defaultDestination(format);
  const logger = pino(
    {
      level,
      redact: { paths: ["req.headers.authorization", 'req.headers["api-key"]', "headers.authorization"], censor: "[redacted]" },
      formatters: { log: clipStrings },
    },
    out,
  );
  return {
    logger,
    flush() {
      try {
        (out as { flushSync?: () => void }).flushSync?.();
      } catch {
        // nothing buffered, or the stream is already gone
      }
    },
  };
}

function defaultDestination(format: LogFormat): DestinationStream {
  if (format === "pretty" || (format === "auto" && process.stdout.isTTY)) {
    const pretty = createRequire(import.meta.url)("pino-pretty") as (opts: object) => DestinationStream;
    return pretty({ colorize: Boolean(process.stdout.isTTY), singleLine: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", sync: true });
  }
  return pino.destination({ dest: 1, sync: false });
}

function clipStrings(object: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(object)) {
    if (typeof v === "string" && v.length > MAX_LOGGED_STRING) object[k] = clip(v, MAX_LOGGED_STRING);
  }
  return object;
}
