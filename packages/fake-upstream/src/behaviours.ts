import { setTimeout as wait } from "node:timers/promises";
import { chatChunks, chatCompletion, toolCallChunks, type ChatRequest } from "./completions.ts";
import { openAIError } from "./errors.ts";
import { sendJson } from "./replies.ts";
import { answer, chatId, type Exchange } from "./routes.ts";
import { streamChunks, streamEvents } from "./sse.ts";

export type Behaviour =
  | { kind: "ok" }
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: unknown }
  | { kind: "reset" }
  | { kind: "hang" }
  | { kind: "delay"; ms: number; then?: Behaviour }
  | { kind: "stream-cut"; afterChunks: number }
  | { kind: "slow-stream"; chunkDelayMs: number; chunks?: number }
  | { kind: "tool-call-stream" }
  /** 200 and SSE headers, then these events (objects as JSON, strings as the raw data), then `[DONE]`; or a reset instead of the end. */
  | { kind: "sse"; events: (object | string)[]; headers?: Record<string, string>; reset?: boolean }
  /** A whole chat.completion whose content is `bytes` long. */
  | { kind: "big-json"; bytes: number }
  /** 400 as OpenAI answers an argument it does not know, when the body has `field`; else `then` (default ok). */
  | { kind: "reject-field"; field: string; then?: Behaviour };

const OK: Behaviour = { kind: "ok" };

/** One-shot behaviours queued per path, then a per-path fallback, then "ok". */
export class BehaviourSchedule {
  #queues = new Map<string, Behaviour[]>();
  #defaults = new Map<string, Behaviour>();

  enqueue(path: string, behaviours: Behaviour[]): void {
    this.#queues.set(path, [...(this.#queues.get(path) ?? []), ...behaviours]);
  }

  setDefault(path: string, behaviour: Behaviour): void {
    this.#defaults.set(path, behaviour);
  }

  next(path: string): Behaviour {
    return this.#queues.get(path)?.shift() ?? this.#defaults.get(path) ?? OK;
  }

  clear(): void {
    this.#queues.clear();
    this.#defaults.clear();
  }
}

// The stream behaviours stream whatever the request asked for: a fault test wants the fault.
const asChat = (body: any): ChatRequest => ({ ...body, messages: Array.isArray(body?.messages) ? body.messages : [] });

export async function perform(b: Behaviour, x: Exchange): Promise<void> {
  switch (b.kind) {
    case "ok":
      return answer(x);
    case "status": {
      const body = b.body ?? openAIError(b.status);
      // A string body goes out raw, to imitate proxies that answer with HTML or plain text.
      if (typeof body !== "string") return sendJson(x.res, b.status, body, b.headers);
      x.res.writeHead(b.status, { "content-type": "text/plain", ...b.headers });
      x.res.end(body);
      return;
    }
    case "reset":
      x.res.socket?.destroy();
      return;
    case "hang":
      return; // The socket stays open until the client leaves or close() destroys it.
    case "delay":
      if (await wait(b.ms, true, { signal: x.signal }).catch(() => false)) return perform(b.then ?? OK, x);
      return;
    case "stream-cut":
      return streamChunks(x.res, chatChunks(chatId(x), asChat(x.body)), x.signal, { cutAfter: b.afterChunks });
    case "slow-stream": {
      // `chunks` fixes the number of content chunks ("tok " each), for benchmarks that need a known length.
      const content = b.chunks === undefined ? undefined : "tok ".repeat(b.chunks);
      const chunks = chatChunks(chatId(x), asChat(x.body), content);
      return streamChunks(x.res, chunks, x.signal, { chunkDelayMs: b.chunkDelayMs });
    }
    case "tool-call-stream":
      return streamChunks(x.res, toolCallChunks(chatId(x), asChat(x.body)), x.signal);
    case "sse":
      return streamEvents(x.res, b.events, b.headers ?? {}, b.reset === true);
    case "big-json": {
      const completion = chatCompletion(chatId(x), asChat(x.body));
      completion.choices[0]!.message.content = "x".repeat(b.bytes);
      return sendJson(x.res, 200, completion);
    }
    case "reject-field": {
      if (x.body?.[b.field] === undefined) return perform(b.then ?? OK, x);
      const message = `Unrecognized request argument supplied: ${b.field}`;
      return sendJson(x.res, 400, openAIError(400, message, null, b.field));
    }
  }
}
