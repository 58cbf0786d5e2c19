/**
 * Logs to stderr (stdout carries MCP messages only) and, once connected, to the client as MCP
 * logging notifications, which the client can filter further with logging/setLevel.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { LogLevel } from "./settings.ts";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
const MCP_LEVEL = { debug: "debug", info: "info", warn: "warning", error: "error" } as const;

export class Logger {
  private readonly level: LogLevel;
  private server: McpServer | undefined;

  constructor(level: LogLevel) {
    this.level = level;
  }

  /** Also send log lines to this client, from now on. */
  attach(server: McpServer): void {
    this.server = server;
  }

  debug(message: string, data?: Record<string, unknown>): void {
    this.write("debug", message, data);
  }
  info(message: string, data?: Record<string, unknown>): void {
    this.write("info", message, data);
  }
  warn(message: string, data?: Record<string, unknown>): void {
    this.write("warn", message, data);
  }
  error(message: string, data?: Record<string, unknown>): void {
    this.write("error", message, data);
  }

  private write(level: LogLevel, message: string, data: Record<string, unknown> | undefined): void {
    if (RANK[level] < RANK[this.level]) return;
    const suffix = data ? ` ${JSON.stringify(data)}` : "";
    process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} openai-gateway-mcp: ${message}${suffix}\n`);
    if (this.server?.isConnected()) {
      this.server
        .sendLoggingMessage({ level: MCP_LEVEL[level], logger: "openai-gateway-mcp", data: data ? { message, ...data } : message })
        .catch(() => {
          // the client went away; stderr already has the line
        });
    }
  }
}
