import type { ServerResponse } from "node:http";
import { setTimeout as wait } from "node:timers/promises";

/**
 * Writes one event as its own write and resolves once it has reached the socket, so that a
 * destroy() right after cannot swallow it. Resolves false when the response is gone.
 */
export function writeEvent(res: ServerResponse, data: object | string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  const text = typeof data === "string" ? data : JSON.stringify(data);
  return new Promise((resolve) => {
    const gone = () => resolve(false);
    res.once("close", gone);
    res.write(`data: ${text}\n\n`, (err) => {
      res.off("close", gone);
      resolve(!err);
    });
  });
}

export interface StreamPlan {
  chunkDelayMs?: number;
  /** Destroy the socket after this many chunks instead of finishing, as a dying upstream would. */
  cutAfter?: number;
}

/** Streams the chunks, then `[DONE]`; stops quietly when the client goes away (signal aborts). */
export async function streamChunks(
  res: ServerResponse,
  chunks: object[],
  signal: AbortSignal,
  plan: StreamPlan = {},
): Promise<void> {
  // No Nagle: each event should leave as its own segment, so clients see real chunk timing.
  res.socket?.setNoDelay(true);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.flushHeaders(); // Headers go out now, as OpenAI's do before the first token.
  for (const [i, chunk] of chunks.slice(0, plan.cutAfter).entries()) {
    if (i > 0 && plan.chunkDelayMs && !(await wait(plan.chunkDelayMs, true, { signal }).catch(() => false))) return;
    if (!(await writeEvent(res, chunk))) return;
  }
  if (plan.cutAfter !== undefined) {
    res.socket?.destroy();
    return;
  }
  if (await writeEvent(res, "[DONE]")) res.end();
}

/** Scripted events as they are (objects as JSON, strings as raw data), then `[DONE]`, or a reset in its place. */
export async function streamEvents(res: ServerResponse, events: (object | string)[], headers: Record<string, string>, reset: boolean): Promise<void> {
  res.socket?.setNoDelay(true);
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
  res.flushHeaders();
  for (const event of events) if (!(await writeEvent(res, event))) return;
  if (reset) {
    // Let the headers and events reach the socket first, as a dying upstream's would.
    setTimeout(() => res.socket?.destroy(), 20);
    return;
  }
  if (await writeEvent(res, "[DONE]")) res.end();
}
