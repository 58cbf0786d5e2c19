/**
 * The model tools for a low-level SDK `Server` that lists and calls tools itself (the gateway's
 * /mcp, where they sit beside its MCP servers' tools): their definitions as MCP sends them (JSON
 * Schema made from the same zod schemas McpServer uses), and a call that checks the arguments the
 * same way (a bad argument is an invalid-params error) and turns a failure into an isError result,
 * as McpServer does.
 */
import type { CallToolResult, Tool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { ToolExtra } from "./call-context.ts";
import { chatCompletionTool } from "./chat-completion.ts";
import { listModelsTool } from "./list-models.ts";
import type { BackendSource } from "./model-backend.ts";

const TOOLS = [chatCompletionTool, listModelsTool] as const;

export interface ModelToolSet {
  tools: Tool[];
  /** Undefined when `name` is none of these tools. */
  call(name: string, args: unknown, extra: ToolExtra): Promise<CallToolResult> | undefined;
}

/** Thrown for arguments the tool's schema refuses: the caller answers it as invalid params. */
export class InvalidToolArguments extends Error {
  override readonly name = "InvalidToolArguments";
}

export function modelToolSet(backend: BackendSource): ModelToolSet {
  const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { target: "draft-7", io: "input" }) as Tool["inputSchema"];
  const tools: Tool[] = TOOLS.map((t) => ({
    name: t.name,
    title: t.config.title,
    description: t.config.description,
    inputSchema: jsonSchema(t.config.inputSchema),
    outputSchema: z.toJSONSchema(t.config.outputSchema, { target: "draft-7" }) as Tool["outputSchema"],
    annotations: t.config.annotations,
  }));
  return {
    tools,
    call(name, args, extra) {
      const tool = TOOLS.find((t) => t.name === name);
      if (!tool) return undefined;
      const parsed = tool.config.inputSchema.safeParse(args ?? {});
      if (!parsed.success) {
        return Promise.reject(new InvalidToolArguments(`Invalid arguments for tool ${name}: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(arguments)"}: ${i.message}`).join("; ")}`));
      }
      return (tool.run as (a: unknown, e: ToolExtra, b: BackendSource) => Promise<CallToolResult>)(parsed.data, extra, backend).catch((err: unknown) => ({
        content: [{ type: "text" as const, text: (err as Error)?.message ?? String(err) }],
        isError: true,
      }));
    },
  };
}
