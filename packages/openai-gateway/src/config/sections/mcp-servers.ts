/**
 * `mcpServers`: the MCP servers whose tools the gateway offers, in the format Claude Desktop, mcpo,
 * Cline and most MCP docs print, so a block is pasted unchanged. A server is stdio (`command`,
 * `args`, `env`) or remote (`url`, `headers`, with `type` streamable-http, whose spellings vary
 * between clients, or sse). Keys other clients write that mean nothing here are accepted:
 * `disabled` is honoured, `autoApprove` and `alwaysAllow` are ignored (the gateway asks no one).
 */
import { z } from "zod";
import { DEFAULT_TOOL_TIMEOUT_MS } from "../defaults.ts";

const HTTP_TYPES = ["streamable-http", "http", "streamable_http", "streamableHttp"] as const;

export const mcpServer = z
  .strictObject({
    type: z.enum(["stdio", "sse", ...HTTP_TYPES]).optional().describe("stdio (the default with `command`), streamable-http (the default with `url`; also http, streamable_http, streamableHttp) or sse"),
    transportType: z.enum(["stdio", "sse", ...HTTP_TYPES]).optional().describe("Cline's name for `type`"),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    env: z.record(z.string(), z.string()).default({}),
    cwd: z.string().min(1).optional(),
    url: z.url({ protocol: /^https?$/ }).optional(),
    headers: z.record(z.string(), z.string()).default({}),
    disabledTools: z.array(z.string().min(1)).default([]),
    toolTimeoutMs: z.number().int().positive().default(DEFAULT_TOOL_TIMEOUT_MS),
    required: z.boolean().default(false),
    disabled: z.boolean().default(false),
    autoApprove: z.array(z.string()).optional(),
    alwaysAllow: z.array(z.string()).optional(),
  })
  .superRefine((s, ctx) => {
    const type = s.type ?? s.transportType;
    const stdio = type === "stdio" || (type === undefined && s.url === undefined);
    if (stdio && s.command === undefined) ctx.addIssue({ code: "custom", path: ["command"], message: "a stdio server needs `command` (or give `url` for a remote one)" });
    if (!stdio && s.url === undefined) ctx.addIssue({ code: "custom", path: ["url"], message: `a ${type ?? "remote"} server needs \`url\`` });
    if (s.command !== undefined && s.url !== undefined) ctx.addIssue({ code: "custom", path: ["url"], message: "give `command` (stdio) or `url` (remote), not both" });
  });

export type McpServerEntry = z.infer<typeof mcpServer>;

const serverName = z.string().regex(/^[\w.-]{1,64}$/, "letters, digits, '_', '.', '-' only, at most 64");

export const mcpServersSection = z.record(serverName, mcpServer).optional().describe("MCP servers whose tools the gateway offers");

/** The file `--mcp-config` names: only its `mcpServers` is read (a Claude Desktop config holds more). */
export const mcpConfigFileSchema = z.looseObject({ mcpServers: z.record(serverName, mcpServer) });
