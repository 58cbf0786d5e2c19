/**
 * What one round of a tool loop is made of: the model's tool calls split into the gateway's (MCP
 * tools it offered) and the client's own, the assistant turn the conversation gains, and the MCP
 * calls run (concurrently), each becoming the `role: tool` message the model reads next.
 */
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { CatalogTool, McpRegistry, ToolCallOutcome } from "../mcp/clients/types.ts";
import { ToolCallFailure } from "../mcp/clients/types.ts";
import { toolFailureText, toolResultText } from "./tool-results.ts";

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  [field: string]: unknown;
}

/** One MCP tool call the gateway made, as the response's `mcpgw.tool_calls` lists it. */
export interface ToolRun {
  id: string;
  name: string;
  server: string;
  tool: string;
  round: number;
  ms: number;
  outcome: ToolCallOutcome | "invalid_arguments";
}

export interface FinishedCall {
  run: ToolRun;
  arguments: string;
  /** What the model reads. */
  text: string;
}

/** The model's tool calls, well-formed ones only (a call without a name cannot be answered). */
export function toolCallsOf(message: { tool_calls?: unknown } | undefined): ToolCall[] {
  const calls = Array.isArray(message?.tool_calls) ? (message.tool_calls as Partial<ToolCall>[]) : [];
  return calls
    .filter((c) => typeof c?.function?.name === "string" && c.function.name !== "")
    .map((c, i) => ({ id: c.id || `call_gw_${i + 1}`, type: "function", function: { name: c.function!.name, arguments: c.function!.arguments ?? "" } }));
}

/**
 * Whose calls these are: the gateway's (an MCP tool it offered), the client's (a tool the client
 * offered), or nobody's (a name the model made up: the gateway answers it as an error, so the model
 * recovers, and never hands the client a call of a tool it does not have).
 */
export function splitCalls(calls: ToolCall[], offered: Map<string, CatalogTool>, clientTools: Set<string>): { mcp: ToolCall[]; client: ToolCall[]; unknown: ToolCall[] } {
  return {
    mcp: calls.filter((c) => offered.has(c.function.name)),
    client: calls.filter((c) => !offered.has(c.function.name) && clientTools.has(c.function.name)),
    unknown: calls.filter((c) => !offered.has(c.function.name) && !clientTools.has(c.function.name)),
  };
}

/** The assistant's turn as the conversation keeps it: its text and the MCP calls it made. */
export function assistantTurn(content: unknown, calls: ToolCall[]): ChatMessage {
  return { role: "assistant", content: content ?? null, tool_calls: calls };
}

/** OpenAI function tools for the MCP tools offered. */
export function asOpenAITools(tools: CatalogTool[]): object[] {
  return tools.map((t) => ({
    type: "function",
    function: { name: t.name, description: t.description ?? t.title ?? t.annotations?.title ?? `${t.tool} (MCP server ${t.server})`, parameters: t.inputSchema },
  }));
}

/**
 * Runs the MCP calls of one round concurrently. A tool's failure (a timeout, its server down,
 * arguments that are not JSON) becomes a tool message saying so: the model recovers, the client
 * never gets a 5xx for it. Only the request itself ending (client gone, total timeout) stops it.
 */
export async function runCalls(
  calls: ToolCall[],
  round: number,
  deps: { registry: McpRegistry; offered: Map<string, CatalogTool>; limitBytes: number; scrub: Scrubber; signal: AbortSignal },
  onFinished: (call: FinishedCall) => void,
): Promise<ChatMessage[]> {
  return Promise.all(
    calls.map(async (c) => {
      const tool = deps.offered.get(c.function.name);
      const started = performance.now();
      let text: string;
      let outcome: ToolRun["outcome"];
      const args = parseArguments(c.function.arguments);
      if (!tool) {
        outcome = "unknown_tool";
        text = toolFailureText(`no tool named '${c.function.name}' is offered`, deps.limitBytes, deps.scrub);
      } else if (args === undefined) {
        outcome = "invalid_arguments";
        text = toolFailureText("its arguments are not a JSON object", deps.limitBytes, deps.scrub);
      } else {
        try {
          const result = await deps.registry.call(c.function.name, args, { signal: deps.signal });
          outcome = result.isError ? "tool_error" : "ok";
          text = toolResultText(result, deps.limitBytes, deps.scrub);
        } catch (err) {
          if (deps.signal.aborted) throw deps.signal.reason;
          outcome = err instanceof ToolCallFailure ? err.kind : "protocol_error";
          text = toolFailureText((err as Error).message, deps.limitBytes, deps.scrub);
        }
      }
      const run: ToolRun = { id: c.id, name: c.function.name, server: tool?.server ?? "", tool: tool?.tool ?? c.function.name, round, ms: Math.round((performance.now() - started) * 10) / 10, outcome };
      onFinished({ run, arguments: c.function.arguments, text });
      return { role: "tool", tool_call_id: c.id, content: text };
    }),
  );
}

function parseArguments(json: string): Record<string, unknown> | undefined {
  if (json.trim() === "") return {};
  try {
    const value = JSON.parse(json) as unknown;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
