/**
 * An MCP tool's result as the text a model reads in a `role: tool` message. Tool output is
 * untrusted input: it is reduced to text (text as text, structuredContent as JSON, images, audio and
 * resources summarised, never their bytes), scrubbed of every secret the gateway holds, and cut to
 * `limitBytes`. A result the tool marked isError goes back to the model as the tool's output,
 * marked as an error, so the model can recover.
 */
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { ToolCallResult } from "../mcp/clients/types.ts";

export function toolResultText(result: ToolCallResult, limitBytes: number, scrub: Scrubber): string {
  const parts: string[] = [];
  for (const item of result.content ?? []) parts.push(describeItem(item));
  // structuredContent is the machine-readable form; text content usually repeats it for humans.
  if (result.structuredContent !== undefined && result.structuredContent !== null) {
    const json = safeJson(result.structuredContent);
    if (!parts.includes(json)) parts.push(json);
  }
  const text = parts.filter((p) => p !== "").join("\n") || "(the tool returned no content)";
  return cut(scrub.exact(result.isError ? `Error from the tool: ${text}` : text), limitBytes);
}

/** A tool call that produced no result (timeout, server down): the model reads why. */
export function toolFailureText(message: string, limitBytes: number, scrub: Scrubber): string {
  return cut(scrub.text(`Error: the tool could not be run: ${message}`), limitBytes);
}

function describeItem(item: Record<string, unknown> & { type: string }): string {
  switch (item.type) {
    case "text":
      return typeof item.text === "string" ? item.text : "";
    case "image":
    case "audio":
      return `[${item.type}: ${String(item.mimeType ?? "unknown type")}, ${approxBytes(item.data)} bytes, not shown]`;
    case "resource_link":
      return `[resource: ${String(item.uri ?? "")}${item.name ? ` (${String(item.name)})` : ""}]`;
    case "resource": {
      const r = (item.resource ?? {}) as Record<string, unknown>;
      if (typeof r.text === "string") return `[resource ${String(r.uri ?? "")}]\n${r.text}`;
      return `[resource: ${String(r.uri ?? "")}, ${String(r.mimeType ?? "binary")}, ${approxBytes(r.blob)} bytes, not shown]`;
    }
  }
  return `[${item.type} content, not shown]`;
}

/** base64 length to bytes. */
function approxBytes(data: unknown): number {
  return typeof data === "string" ? Math.floor((data.length * 3) / 4) : 0;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "";
  } catch {
    return "(structured content that is not JSON)";
  }
}

/** At most `limitBytes` of UTF-8, cut on a character boundary, saying how much was left out. */
export function cut(text: string, limitBytes: number): string {
  const bytes = Buffer.byteLength(text);
  if (bytes <= limitBytes) return text;
  const kept = Buffer.from(text).subarray(0, limitBytes).toString("utf8").replace(/\uFFFD$/, "");
  return `${kept}\n…(cut: ${bytes - Buffer.byteLength(kept)} more bytes of tool output)`;
}
