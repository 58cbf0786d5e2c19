/**
 * Watches a chat stream's events for the usage block, and strips it when the gateway, not the
 * client, asked for it (stream_options.include_usage, added to count tokens per key). Batches
 * without usage pass through as they came: the upstream's own bytes when it has them.
 */
import { asChatUsage, mayHoldUsage, type Usage } from "@mcpgw/openai-protocol";
import type { EventBatch } from "../upstream/stream-events.ts";

const TERMINATOR = /(\r\n\r\n|\n\n|\r\r)$/;

export class UsageTap {
  usage: Usage | undefined;
  /** Events relayed: about one token each on OpenAI-style streams, what a stream cut short is counted by. */
  events = 0;
  private readonly strip: boolean;

  constructor(strip: boolean) {
    this.strip = strip;
  }

  /** What to send to the client for this batch (possibly nothing). */
  apply(batch: EventBatch): string | Buffer {
    this.events += batch.events.length;
    if (!batch.events.some(mayHoldUsage)) return batch.bytes ?? batch.events.join("");
    let out = "";
    for (const event of batch.events) out += mayHoldUsage(event) ? this.inspect(event) : event;
    return out;
  }

  private inspect(event: string): string {
    const dataAt = event.indexOf("data:");
    if (dataAt < 0) return event;
    const terminator = TERMINATOR.exec(event)?.[0] ?? "";
    let parsed: { usage?: Usage | null; choices?: unknown[]; response?: { usage?: unknown } };
    try {
      parsed = JSON.parse(event.slice(dataAt + 5, event.length - terminator.length));
    } catch {
      return event;
    }
    // Chat and text completions put it on a chunk; the Responses API in response.completed's response.
    const usage = asChatUsage(parsed.usage ?? parsed.response?.usage);
    if (usage) this.usage = usage;
    if (!this.strip) return event;
    if (!parsed.choices || parsed.choices.length === 0) return "";
    // Some providers put usage on the last content chunk: keep the chunk, drop the usage.
    delete parsed.usage;
    return `${event.slice(0, dataAt)}data: ${JSON.stringify(parsed)}${terminator}`;
  }
}
