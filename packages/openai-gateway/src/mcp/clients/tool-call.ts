/**
 * One tools/call on a live session, bounded by the server's toolTimeoutMs and by the caller's
 * signal. Either bound cancels the call on the server too: the SDK sends notifications/cancelled
 * when a request times out or its signal aborts. The arguments are passed as they are (the server
 * validates them) and the result is returned as the server sent it, isError included; only a call
 * that produced no result becomes a ToolCallFailure.
 *
 * The SDK's Client.callTool is not used: it checks structuredContent against the output schemas it
 * cached from tools/list, but it forgets them on every page of a paginated list, so the check would
 * depend on which page a tool came on. The gateway passes tool output on as untrusted data instead.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Sdk } from "./load-sdk.ts";
import { ToolCallFailure, type ToolCallOptions, type ToolCallResult } from "./types.ts";

export interface CallTarget {
  server: string;
  tool: string;
  timeoutMs: number;
  scrub(text: string): string;
}

export async function callTool(sdk: Sdk, client: Client, target: CallTarget, args: Record<string, unknown>, opts: ToolCallOptions): Promise<ToolCallResult> {
  if (opts.signal.aborted) throw new ToolCallFailure("cancelled", "the tool call was cancelled before it started", target.server);
  // A signal of this call only: the SDK adds an abort listener per request and never removes it,
  // and opts.signal may live as long as a whole chat request with many calls.
  const own = new AbortController();
  const abort = () => own.abort(opts.signal.reason);
  opts.signal.addEventListener("abort", abort, { once: true });
  const onProgress = opts.onProgress;
  try {
    const result = await client.request({ method: "tools/call", params: { name: target.tool, arguments: args } }, sdk.CallToolResultSchema, {
      signal: own.signal,
      timeout: target.timeoutMs,
      ...(onProgress ? { onprogress: (p: { progress: number; total?: number; message?: string }) => onProgress({ progress: p.progress, total: p.total, message: p.message }) } : {}),
    });
    return { content: result.content, structuredContent: result.structuredContent, isError: result.isError === true };
  } catch (err) {
    throw failureOf(sdk, err, target, opts.signal.aborted);
  } finally {
    opts.signal.removeEventListener("abort", abort);
  }
}

function failureOf(sdk: Sdk, err: unknown, target: CallTarget, aborted: boolean): ToolCallFailure {
  const what = `${target.server}/${target.tool}`;
  if (aborted) return new ToolCallFailure("cancelled", `the call to ${what} was cancelled`, target.server);
  const message = target.scrub(err instanceof Error ? err.message : String(err));
  if (err instanceof sdk.McpError) {
    if (err.code === sdk.ErrorCode.RequestTimeout) {
      return new ToolCallFailure("timeout", `${what} did not answer within ${target.timeoutMs} ms`, target.server);
    }
    if (err.code === sdk.ErrorCode.ConnectionClosed) {
      return new ToolCallFailure("server_unavailable", `the MCP server ${target.server} went away during the call to ${target.tool}`, target.server);
    }
    // The server answered with a JSON-RPC error (invalid params, an unknown tool on its side).
    return new ToolCallFailure("protocol_error", `${what} failed: ${message}`, target.server);
  }
  // A result that is not a CallToolResult (the SDK's schema check: "$ZodError" from zod/v4-mini).
  if (err instanceof Error && /ZodError$/.test(err.name)) {
    return new ToolCallFailure("protocol_error", `${what} sent a result that is not a tool result`, target.server);
  }
  // The request could not be sent: a broken pipe, an HTTP server that is gone.
  return new ToolCallFailure("server_unavailable", `the MCP server ${target.server} could not be reached: ${message}`, target.server);
}
