/**
 * Relays an upstream stream to the client: the first events (already read before committing),
 * then each upstream read as one write as it arrives, pausing the upstream while the client is
 * slow. Once the first byte has gone out nothing is retried: a failure mid-stream becomes one
 * OpenAI error event, then the end.
 */
import type { FastifyBaseLogger } from "fastify";
import { GatewayError } from "../errors.ts";
import { errorFromException } from "../upstream/upstream-errors.ts";
import type { EventStream } from "./event-stream.ts";
import type { UpstreamEvents } from "../upstream/stream-events.ts";
import type { UsageTap } from "./usage-tap.ts";

export async function relayStream(
  upstream: UpstreamEvents,
  out: EventStream,
  tap: UsageTap,
  provider: string,
  signal: AbortSignal,
  log: FastifyBaseLogger,
): Promise<void> {
  try {
    await upstream.pump((batch) => out.write(tap.apply(batch)), out);
  } catch (err) {
    if (out.closed) return;
    const reason = signal.aborted ? signal.reason : err;
    const error = reason instanceof GatewayError ? reason : errorFromException(reason, provider);
    log.warn({ err: error.message, status: error.status }, "upstream stream failed after it started");
    out.fail(error);
  }
  out.end();
}
