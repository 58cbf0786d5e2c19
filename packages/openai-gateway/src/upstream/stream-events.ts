/**
 * An upstream's SSE stream, read as events. Each read of the upstream becomes one batch of whole
 * events (never a partial event, never merged with the next read), with the read's own bytes kept
 * when they are exactly those events and need no change, so the common case relays bytes as they
 * came. Every batch is scrubbed of the upstream secrets, and an `{"error": ...}` event becomes the
 * gateway's own error event, scrubbed field by field like any upstream error.
 *
 * `first()` waits for the first event before anything is sent to the client, so a stream that
 * fails before it (a reset, an error event) can still be retried or sent to the fallback target.
 */
import type { Readable } from "node:stream";
import { mayHoldError, readEvent, SseSplitter, type Scrubber } from "@mcpgw/openai-protocol";
import type { GatewayError } from "../errors.ts";
import { errorFromStreamEvent } from "./upstream-errors.ts";

export interface EventBatch {
  events: string[];
  /** The upstream's own bytes, when they are exactly `events`. */
  bytes: Buffer | undefined;
}

export interface FirstEvents {
  batch: EventBatch;
  /** The first event was an error event: the stream failed before it started. */
  error: GatewayError | undefined;
  /** The body ended before any event (an empty body, or a whole JSON answer to a stream request). */
  ended: boolean;
}

/** An event with a `data:` line (a comment-only block dispatches nothing). */
const DATA_LINE = /(^|[\r\n])data:/;
const carriesData = (event: string): boolean => DATA_LINE.test(event);

export class UpstreamEvents {
  private readonly splitter = new SseSplitter();
  private readonly body: Readable;
  private readonly scrub: Scrubber;
  private readonly provider: string;
  private ended = false;

  constructor(body: Readable, scrub: Scrubber, provider: string) {
    this.body = body;
    this.scrub = scrub;
    this.provider = provider;
    // Between first() and pump() nobody else listens: an error there must not be an unhandled
    // 'error' event (pump() sees it as the body being destroyed).
    body.on("error", () => {});
  }

  /** Lets the upstream's connection go, when the stream will not be relayed (it failed before it started). */
  discard(): void {
    this.body.destroy();
  }

  /** The events up to and including the first one that carries data; rejects if the body fails first. */
  first(): Promise<FirstEvents> {
    const { body } = this;
    const events: string[] = [];
    const reads: Buffer[] = [];
    return new Promise((resolve, reject) => {
      const done = (result: FirstEvents | Error) => {
        body.off("data", onData).off("end", onEnd).off("error", onError);
        body.pause();
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const onData = (chunk: Buffer) => {
        const batch = this.read(chunk);
        reads.push(chunk);
        events.push(...batch.events);
        const at = batch.events.findIndex(carriesData);
        if (at < 0) return;
        const error = batch.errors[at];
        // One read in the common case: its bytes can still go out as they came.
        const bytes = reads.length === 1 ? batch.bytes : undefined;
        done({ batch: { events, bytes }, error, ended: false });
      };
      const onEnd = () => {
        this.ended = true;
        done({ batch: { events, bytes: undefined }, error: undefined, ended: true });
      };
      const onError = (err: Error) => done(err);
      body.on("data", onData).once("end", onEnd).once("error", onError);
      body.resume();
    });
  }

  /**
   * Flowing mode, not `for await`: the async iterator reads whatever has queued up in one piece, so
   * two reads that arrive while the loop awaits would reach the client merged into one write. Here
   * every upstream read becomes one call of `onBatch` the moment it arrives; `onBatch` answering
   * false (the client is slow) pauses the upstream until the client has drained. Resolves when
   * the body ends (after the last partial event, if any, as a batch) or the client leaves; rejects
   * if the body fails.
   */
  pump(onBatch: (batch: EventBatch) => boolean, client: { watch(drained: () => void, gone: () => void): () => void }): Promise<void> {
    const { body } = this;
    if (!this.ended && body.destroyed) return Promise.reject(body.errored ?? new Error("the upstream closed the stream early"));
    if (this.ended) {
      // Already over while the first events were read (a whole JSON answer to a stream request).
      const rest = this.splitter.flush();
      if (rest) onBatch({ events: [this.scrubEvent(rest).text], bytes: undefined });
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        body.off("data", onData).off("close", onClose);
        unwatch();
        if (err) reject(err);
        else resolve();
      };
      const onData = (chunk: Buffer) => {
        if (!onBatch(this.read(chunk))) body.pause();
      };
      const onEnd = () => {
        const rest = this.splitter.flush();
        if (rest) onBatch({ events: [this.scrubEvent(rest).text], bytes: undefined });
        finish();
      };
      // The client went away: stop reading; the request's abort signal tears the upstream down.
      const unwatch = client.watch(() => body.resume(), () => finish());
      // The error listener stays after settling: a body torn down later must not throw unhandled.
      // A body destroyed without an error (and without its end) must not leave the relay waiting.
      const onClose = () => finish(Object.assign(new Error("the upstream closed the stream early"), { code: "UND_ERR_SOCKET" }));
      body.on("data", onData).once("end", onEnd).on("error", finish).once("close", onClose);
      body.resume();
    });
  }

  /** Whether text that is not yet a whole event has arrived. */
  hasPending(): boolean {
    return this.splitter.pendingLength > 0;
  }

  private read(chunk: Buffer): EventBatch & { errors: (GatewayError | undefined)[] } {
    const { events, whole } = this.splitter.push(chunk);
    // The common case: whole events, no secret, no error event: the upstream's own bytes go out.
    if (whole && this.scrub.bytes(chunk) === chunk && !events.some(mayHoldError)) return { events, bytes: chunk, errors: [] };
    const read = events.map((e) => this.scrubEvent(e));
    return { events: read.map((r) => r.text), bytes: undefined, errors: read.map((r) => r.error) };
  }

  private scrubEvent(event: string): { text: string; error?: GatewayError } {
    const error = mayHoldError(event) ? this.errorIn(event) : undefined;
    if (error) return { text: `data: ${JSON.stringify(error.toBody())}\n\n`, error };
    return { text: this.scrub.exact(event) };
  }

  /** The gateway's error for an `{"error": ...}` event; undefined when the event only mentions the key. */
  private errorIn(event: string): GatewayError | undefined {
    const { data } = readEvent(event);
    if (data === undefined || data === "[DONE]") return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return undefined;
    }
    if (!parsed || typeof parsed !== "object" || !("error" in parsed) || (parsed as { error: unknown }).error == null) return undefined;
    return errorFromStreamEvent(data, this.provider, this.scrub);
  }
}
