/**
 * Takes usage rows off the request path: a request ends by pushing its row to a queue, and the queue
 * goes to the store in one batch every second (or at once when it holds a batch's worth). A store
 * that fails keeps its rows queued for the next try, up to a cap (then the oldest go, counted in
 * metrics and logged): a database restart loses nothing, a database gone for good cannot fill the
 * memory. Old rows are pruned hourly past the retention. close() writes what is left.
 */
import type { FastifyBaseLogger } from "fastify";
import type { UsageRow, UsageStore } from "./types.ts";

export interface RecorderOptions {
  flushMs?: number;
  batchRows?: number;
  maxQueuedRows?: number;
  retentionMs: number | undefined;
  onDropped?(rows: number): void;
  onStoreError?(): void;
}

export class UsageRecorder {
  readonly store: UsageStore;
  readonly #log: FastifyBaseLogger;
  readonly #opts: Required<Omit<RecorderOptions, "retentionMs">> & { retentionMs: number | undefined };
  #queue: UsageRow[] = [];
  #flushing: Promise<void> | undefined;
  #failing = false;
  readonly #timer: NodeJS.Timeout;
  readonly #pruner: NodeJS.Timeout | undefined;

  constructor(store: UsageStore, log: FastifyBaseLogger, opts: RecorderOptions) {
    this.store = store;
    this.#log = log;
    this.#opts = { flushMs: 1000, batchRows: 500, maxQueuedRows: 100_000, onDropped: () => {}, onStoreError: () => {}, ...opts };
    this.#timer = setInterval(() => void this.flush(), this.#opts.flushMs);
    this.#timer.unref();
    if (opts.retentionMs !== undefined) {
      this.#pruner = setInterval(() => void this.prune(), 3_600_000);
      this.#pruner.unref();
      void this.prune();
    }
  }

  record(row: UsageRow): void {
    this.#queue.push(row);
    if (this.#queue.length > this.#opts.maxQueuedRows) {
      const dropped = this.#queue.length - this.#opts.maxQueuedRows;
      this.#queue.splice(0, dropped);
      this.#opts.onDropped(dropped);
    }
    if (this.#queue.length >= this.#opts.batchRows) void this.flush();
  }

  /** Writes what is queued; resolves when it is written (or has failed and stays queued). */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing.then(() => (this.#queue.length && !this.#failing ? this.flush() : undefined));
    if (this.#queue.length === 0) return Promise.resolve();
    const batch = this.#queue;
    this.#queue = [];
    this.#flushing = this.store
      .insert(batch)
      .then(() => {
        if (this.#failing) this.#log.info({ store: this.store.kind }, "usage store is writable again");
        this.#failing = false;
      })
      .catch((err: unknown) => {
        this.#queue = batch.concat(this.#queue);
        this.#opts.onStoreError();
        if (!this.#failing) this.#log.error({ store: this.store.kind, err: (err as Error).message }, "usage store write failed: rows stay queued and are retried");
        this.#failing = true;
      })
      .finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  async prune(): Promise<void> {
    if (this.#opts.retentionMs === undefined) return;
    try {
      const removed = await this.store.prune(Date.now() - this.#opts.retentionMs);
      if (removed) this.#log.info({ removed }, "usage records past retention removed");
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, "usage retention: prune failed");
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#pruner) clearInterval(this.#pruner);
    await this.flush();
    if (this.#queue.length) this.#log.error({ rows: this.#queue.length }, "usage rows not written at shutdown");
    await this.store.close();
  }
}
