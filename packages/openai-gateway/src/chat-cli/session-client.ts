/**
 * The gateway's /chat API as the terminal chat uses it: `GET /chat` at start, so that a gateway
 * that is not there or a wrong key fails before the user types; `POST /chat` with `stream: true`
 * for each message, its answer read as it arrives. The session is kept here: the first answer
 * names it, every later message carries it.
 */
import { answerEvents } from "./answer-events.ts";
import { brokenOff, ChatCliError, httpFailure, streamFailure, unreachable, type RequestContext } from "./chat-errors.ts";

/** A tool call as it starts (`status: "running"`) and as it ends (status is its outcome, with its time). */
export interface ToolCallEvent {
  id: string;
  name: string;
  server?: string;
  tool?: string;
  status: string;
  ms?: number;
}

export interface AnswerHandlers {
  /** The reply's text, a piece at a time, as the model writes it. */
  onText(text: string): void;
  onTool?(event: ToolCallEvent): void;
}

export interface SessionClientOptions {
  /** Where /chat is: the gateway's address, without a trailing slash. */
  base: string;
  key: string | undefined;
  model: string | undefined;
}

/** A gateway that takes longer than this to list sessions is not answering. */
const CHECK_TIMEOUT_MS = 10_000;

export class SessionClient {
  /** Undefined until the first answer names the session; `/new` forgets it. */
  sessionId: string | undefined;
  readonly #opts: SessionClientOptions;

  constructor(opts: SessionClientOptions) {
    this.#opts = opts;
  }

  get url(): string {
    return this.#opts.base;
  }

  /** Throws unless the gateway answers GET /chat with 200 for this key. */
  async check(): Promise<void> {
    const res = await this.#request("GET", undefined, AbortSignal.timeout(CHECK_TIMEOUT_MS), true);
    await res.body?.cancel();
  }

  /** Sends one message and resolves with the whole reply once the answer is done; `signal` stops it. */
  async send(message: string, handlers: AnswerHandlers, signal?: AbortSignal): Promise<string> {
    const body = {
      message,
      stream: true,
      ...(this.sessionId ? { session_id: this.sessionId } : {}),
      ...(this.#opts.model ? { model: this.#opts.model } : {}),
    };
    const res = await this.#request("POST", body, signal, false);
    this.sessionId = res.headers.get("x-session-id") ?? this.sessionId;
    if (!res.headers.get("content-type")?.startsWith("text/event-stream")) {
      // A gateway may answer whole even when asked to stream; the reply is the same.
      const whole = (await res.json()) as { response?: string; session_id?: string };
      this.sessionId = whole.session_id ?? this.sessionId;
      handlers.onText(whole.response ?? "");
      return whole.response ?? "";
    }
    try {
      for await (const { event, data } of answerEvents(res.body!)) {
        const d = data as Record<string, unknown>;
        if (event === "session" && typeof d.session_id === "string") this.sessionId = d.session_id;
        else if (event === "delta" && typeof d.text === "string") handlers.onText(d.text);
        else if (event === "tool") handlers.onTool?.(d as unknown as ToolCallEvent);
        else if (event === "done") return typeof d.response === "string" ? d.response : "";
        else if (event === "error") throw streamFailure(d);
      }
    } catch (err) {
      if (err instanceof ChatCliError || signal?.aborted) throw err;
      throw brokenOff(err);
    }
    throw new ChatCliError("the gateway ended the answer before it was done");
  }

  async #request(method: "GET" | "POST", body: object | undefined, signal: AbortSignal | undefined, starting: boolean): Promise<Response> {
    const { base, key, model } = this.#opts;
    const headers: Record<string, string> = { accept: method === "POST" ? "text/event-stream" : "application/json" };
    if (key) headers.authorization = `Bearer ${key}`;
    if (body) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(`${base}/chat`, { method, headers, ...(signal ? { signal } : {}), ...(body ? { body: JSON.stringify(body) } : {}) });
    } catch (err) {
      if (signal?.aborted && (err as Error)?.name === "AbortError") throw err;
      throw unreachable(base, err);
    }
    if (!res.ok) {
      const ctx: RequestContext = { url: base, keyGiven: Boolean(key), model, starting };
      throw await httpFailure(res, ctx);
    }
    return res;
  }
}
