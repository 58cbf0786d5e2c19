/**
 * A tool's result as the REST endpoints answer it, the way mcpo does: its structuredContent when it
 * has one; else its text (parsed as JSON when it is JSON, else the string itself), or the list of
 * its content items when there are several (images and audio as data URIs, resources as their text
 * or a data URI). Scrubbed of the credentials the gateway holds.
 */
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { ToolCallResult } from "../mcp/clients/types.ts";

export function toolAnswer(result: ToolCallResult, scrub: Scrubber): unknown {
  if (result.structuredContent !== undefined && result.structuredContent !== null) return scrub.json(result.structuredContent);
  const items = (result.content ?? []).map((item) => itemValue(item, scrub));
  if (items.length === 0) return null;
  return items.length === 1 ? items[0] : items;
}

/** The text of an isError result: what the tool said went wrong. */
export function toolErrorText(result: ToolCallResult, scrub: Scrubber): string {
  const text = (result.content ?? []).filter((c) => c.type === "text" && typeof c.text === "string").map((c) => c.text as string).join("\n");
  return scrub.text(text || "the tool reported an error without a message");
}

function itemValue(item: Record<string, unknown> & { type: string }, scrub: Scrubber): unknown {
  switch (item.type) {
    case "text": {
      const text = scrub.exact(String(item.text ?? ""));
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }
    case "image":
    case "audio":
      return `data:${String(item.mimeType ?? "application/octet-stream")};base64,${String(item.data ?? "")}`;
    case "resource": {
      const r = (item.resource ?? {}) as Record<string, unknown>;
      if (typeof r.text === "string") return scrub.exact(r.text);
      return `data:${String(r.mimeType ?? "application/octet-stream")};base64,${String(r.blob ?? "")}`;
    }
    case "resource_link":
      return { uri: item.uri, name: item.name, ...(item.mimeType ? { mimeType: item.mimeType } : {}) };
  }
  return scrub.json(item);
}
