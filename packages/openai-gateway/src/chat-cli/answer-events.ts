/**
 * The named events of a streamed /chat answer (session, delta, tool, done, error), read from the
 * response body as they arrive. The keepalive comments sent while a tool runs carry no data and are
 * dropped here.
 */
import { readEvent, SseSplitter } from "@mcpgw/openai-protocol";
import { ChatCliError } from "./chat-errors.ts";

export interface AnswerEvent {
  event: string;
  data: unknown;
}

export async function* answerEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<AnswerEvent> {
  const splitter = new SseSplitter();
  for await (const chunk of body) {
    for (const raw of splitter.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)).events) {
      const event = parse(raw);
      if (event) yield event;
    }
  }
  // A last event without its blank line still counts: the stream's end closes it.
  const rest = splitter.flush();
  const event = rest.trim() ? parse(rest) : undefined;
  if (event) yield event;
}

function parse(raw: string): AnswerEvent | undefined {
  const { event, data } = readEvent(raw);
  if (data === undefined) return undefined;
  try {
    return { event: event ?? "message", data: JSON.parse(data) };
  } catch {
    throw new ChatCliError(`the gateway sent an event that is not JSON (${event ?? "message"}: ${data.slice(0, 80)})`);
  }
}
