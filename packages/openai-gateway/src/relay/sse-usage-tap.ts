/**
 * Watches an SSE stream of chat.completion.chunk events for the usage block, and optionally strips
 * it (when the gateway, not the client, asked for it). Complete events pass through as they arrive;
 * only a trailing partial event waits for its end, so an event is never split or merged with a later one.
 */
import { StringDecoder } from "node:string_decoder";
import type { Usage } from "../metrics.ts";

const EVENT_END = /\r\n\r\n|\n\n|\r\r/g;
const HAS_USAGE = /"usage"\s*:\s*\{/;

export class SseUsageTap {
  usage: Usage | undefined;
  private readonly strip: boolean;
  private readonly decoder = new StringDecoder("utf8");
  private pending = "";

  constructor(strip: boolean) {
    this.strip = strip;
  }

  /** Returns what to send to the client now (possibly nothing). */
  push(chunk: Buffer): string | Buffer {
    const text = this.pending + this.decoder.write(chunk);
    let end = 0;
    for (const m of text.matchAll(EVENT_END)) end = m.index + m[0].length;
    const complete = text.slice(0, end);
    const hadPending = this.pending !== "";
    this.pending = text.slice(end);
    if (!HAS_USAGE.test(complete)) {
      // The common case: forward the upstream's own bytes untouched.
      // (A chunk ending in a newline left no partial character in the decoder.)
      const whole = !hadPending && this.pending === "" && (chunk.at(-1) === 0x0a || chunk.at(-1) === 0x0d);
      return whole ? chunk : complete;
    }
    return this.rewrite(complete);
  }

  /** Whatever is left when the upstream ends (a final event without its blank line). */
  flush(): string {
    const rest = this.pending + this.decoder.end();
    this.pending = "";
    return HAS_USAGE.test(rest) ? this.rewrite(rest) : rest;
  }

  private rewrite(complete: string): string {
    let out = "";
    let start = 0;
    for (const m of complete.matchAll(EVENT_END)) {
      out += this.inspect(complete.slice(start, m.index), m[0]);
      start = m.index + m[0].length;
    }
    if (start < complete.length) out += this.inspect(complete.slice(start), "");
    return out;
  }

  private inspect(event: string, terminator: string): string {
    if (!HAS_USAGE.test(event)) return event + terminator;
    const dataAt = event.indexOf("data:");
    let parsed: { usage?: Usage | null; choices?: unknown[] };
    try {
      parsed = JSON.parse(event.slice(dataAt + 5));
    } catch {
      return event + terminator;
    }
    if (parsed.usage) this.usage = parsed.usage;
    if (!this.strip) return event + terminator;
    if (!parsed.choices || parsed.choices.length === 0) return "";
    // Some providers put usage on the last content chunk: keep the chunk, drop the usage.
    delete parsed.usage;
    return `${event.slice(0, dataAt)}data: ${JSON.stringify(parsed)}${terminator}`;
  }
}
