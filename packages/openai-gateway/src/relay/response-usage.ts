/**
 * The usage block of a whole (non-streamed) JSON response, for token metrics. Parsing the entire
 * answer only to read three numbers costs as much as the rest of the hot path for long answers,
 * so the object after the last `"usage":` key is cut out and parsed alone; anything unexpected
 * falls back to parsing the whole body.
 */
import { asChatUsage, type Usage } from "@mcpgw/openai-protocol";

const KEY = '"usage"';

export function usageOf(body: Buffer): Usage | undefined {
  const at = body.lastIndexOf(KEY);
  // Inside a JSON string a quote is escaped, so an unescaped `"usage"` is a key.
  if (at > 0 && body[at - 1] !== 0x5c) {
    // Only the tail is decoded; usage is ASCII, and latin1 maps bytes to characters one to one.
    const object = objectAfter(body.toString("latin1", at + KEY.length), 0);
    if (object !== undefined) {
      try {
        return asChatUsage(JSON.parse(object));
      } catch {
        // not what it looked like: parse the whole answer below
      }
    }
  }
  if (at < 0) return undefined;
  try {
    return asChatUsage((JSON.parse(body.toString("utf8")) as { usage?: unknown }).usage);
  } catch {
    return undefined;
  }
}

/** The `{...}` (or `null`) value after a key's colon, braces balanced outside strings. */
function objectAfter(text: string, from: number): string | undefined {
  let i = from;
  while (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t") i++;
  if (text[i++] !== ":") return undefined;
  while (text[i] === " " || text[i] === "\n" || text[i] === "\r" || text[i] === "\t") i++;
  if (text.startsWith("null", i)) return "null";
  if (text[i] !== "{") return undefined;
  let depth = 0;
  let inString = false;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (inString) {
      if (c === 0x5c) j++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b) depth++;
    else if (c === 0x7d && --depth === 0) return text.slice(i, j + 1);
  }
  return undefined;
}
