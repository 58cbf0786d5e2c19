/**
 * A streamed /chat answer as its client reads it: named SSE events instead of OpenAI chunks.
 *
 *   event: session  {"session_id","model"}                  first
 *   event: delta    {"text"}                                 the reply as it grows
 *   event: tool     {"id","name","server","tool","status"}   "running", then the outcome with "ms"
 *   event: done     {"response","session_id","model","tool_calls","usage"}   last
 *   event: error    {"error":{...}}                          instead of done, when it failed
 *
 * The tool loop writes the OpenAI chunks it would send to /v1 (the same code path, so both APIs
 * answer alike); this output reads them back: the text of each delta, an error event as one.
 * Keepalive comments pass through.
 */
import { formatComment, formatEvent, readEvent, SseSplitter } from "@mcpgw/openai-protocol";
import type { GatewayError } from "../errors.ts";
import type { LoopOutput } from "../chat/tool-loop.ts";
import type { EventStream } from "../relay/event-stream.ts";

export const chatEvent = (name: string, data: unknown): string => formatEvent(JSON.stringify(data), name);

export class ChatEventOutput implements LoopOutput {
  readonly #out: EventStream;
  readonly #splitter = new SseSplitter();
  #failed = false;

  constructor(out: EventStream) {
    this.#out = out;
  }

  /** True once an error event went out (from the upstream's stream or the loop). */
  get failed(): boolean {
    return this.#failed;
  }

  write(data: string | Buffer): boolean {
    let text = "";
    for (const raw of this.#splitter.push(typeof data === "string" ? Buffer.from(data) : data).events) text += this.#translate(raw);
    return this.#out.write(text);
  }

  /** Our own events (session, tool, done), written as they are. */
  send(name: string, data: unknown): void {
    this.#out.write(chatEvent(name, data));
  }

  keepalive(text: string): void {
    this.#out.keepalive(text);
  }

  fail(error: GatewayError): void {
    this.#failed = true;
    this.#out.write(chatEvent("error", error.toBody()));
  }

  /** The loop is done with the stream; the route ends it after the last event. */
  end(): void {}

  close(): void {
    this.#out.end();
  }

  get closed(): boolean {
    return this.#out.closed;
  }

  watch(drained: () => void, gone: () => void): () => void {
    return this.#out.watch(drained, gone);
  }

  #translate(raw: string): string {
    const { data } = readEvent(raw);
    if (data === undefined) return raw.startsWith(":") ? formatComment(raw.slice(1).trim()) : "";
    if (data === "[DONE]") return "";
    let chunk: { choices?: { delta?: { content?: unknown } }[]; error?: unknown };
    try {
      chunk = JSON.parse(data) as typeof chunk;
    } catch {
      return "";
    }
    if (chunk.error !== undefined) {
      this.#failed = true;
      return chatEvent("error", { error: chunk.error });
    }
    const text = chunk.choices?.[0]?.delta?.content;
    return typeof text === "string" && text !== "" ? chatEvent("delta", { text }) : "";
  }
}
