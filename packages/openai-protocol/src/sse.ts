/**
 * Server-Sent Events as OpenAI streams them: bytes split into whole events as they arrive (an
 * event is never cut in two or merged with the next), events read into their fields, and events
 * written. The splitter keeps each upstream read's events together so a relay can make one write
 * of them, and says when a read was exactly whole events, so the original bytes can go out as they are.
 */
import { StringDecoder } from "node:string_decoder";

const EVENT_END = /\r\n\r\n|\n\n|\r\r/g;

export interface SseBatch {
  /** The events completed by this read, each with its blank-line terminator. */
  events: string[];
  /** True when the read was exactly these events: nothing pending before or after it. */
  whole: boolean;
}

export class SseSplitter {
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";

  push(chunk: Buffer): SseBatch {
    const hadPending = this.pending !== "";
    const text = this.pending + this.decoder.write(chunk);
    const events: string[] = [];
    let start = 0;
    for (const m of text.matchAll(EVENT_END)) {
      const end = m.index + m[0].length;
      events.push(text.slice(start, end));
      start = end;
    }
    this.pending = start === 0 ? text : text.slice(start);
    // A read ending in a newline left no partial character in the decoder either.
    const last = chunk.at(-1);
    return { events, whole: !hadPending && this.pending === "" && (last === 0x0a || last === 0x0d) };
  }

  /** What is left when the stream ends: a last event without its blank line, or nothing. */
  flush(): string {
    const rest = this.pending + this.decoder.end();
    this.pending = "";
    return rest;
  }

  /** Characters received that are not yet a whole event. */
  get pendingLength(): number {
    return this.pending.length;
  }
}

export interface SseEvent {
  /** The `event:` field; undefined for the default "message" event OpenAI's chat streams use. */
  event: string | undefined;
  /** The `data:` lines joined by newlines; undefined for an event without data (a comment). */
  data: string | undefined;
}

/** The fields of one event, by the rules of the SSE specification. */
export function readEvent(raw: string): SseEvent {
  let data: string[] | undefined;
  let event: string | undefined;
  for (const line of raw.split(/\r\n|\r|\n/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") (data ??= []).push(value);
    else if (field === "event") event = value;
  }
  return { event, data: data?.join("\n") };
}

/** One event carrying `data` (each of its lines as a `data:` line). */
export function formatEvent(data: string, event?: string): string {
  const lines = data.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join("");
  return `${event ? `event: ${event}\n` : ""}${lines}\n`;
}

/** A comment line: clients ignore it, proxies see traffic (keepalive). */
export function formatComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, " ")}\n\n`;
}

export const DONE_EVENT = "data: [DONE]\n\n";

// `"error":` or `"usage":{` can only be a key: inside a JSON string a quote is escaped.
const ERROR_KEY = /"error"\s*:/;
const USAGE_OBJECT = /"usage"\s*:\s*\{/;

/** Cheap tests on an event's raw text before anything is parsed. */
export const mayHoldError = (raw: string): boolean => ERROR_KEY.test(raw);
export const mayHoldUsage = (raw: string): boolean => USAGE_OBJECT.test(raw);
