/**
 * Relays an upstream SSE stream to the client event by event as it arrives. Once the first byte
 * has gone out nothing is retried: a failure mid-stream becomes an OpenAI error event, then the end.
 */
import type { ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import { GatewayError } from "../errors.ts";
import type { UpstreamResponse } from "../upstream/types.ts";
import { errorFromException } from "../upstream/upstream-errors.ts";
import type { SseUsageTap } from "./sse-usage-tap.ts";

export async function relayStream(
  reply: FastifyReply,
  upstream: UpstreamResponse,
  tap: SseUsageTap,
  provider: string,
  signal: AbortSignal,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    "content-type": headerString(upstream.headers["content-type"]) ?? "text/event-stream",
    "cache-control": "no-cache",
    "x-accel-buffering": "no", // tell nginx-like proxies in front not to buffer either
    "x-request-id": String(reply.request.id),
  });
  // Headers go out at once when the upstream has sent nothing else yet (the client knows its stream
  // started); when the first event is already here, they leave with it in one packet.
  if (upstream.body.readableLength === 0) res.flushHeaders();
  try {
    await pump(upstream.body, res, tap);
  } catch (err) {
    if (res.destroyed) return;
    const reason = signal.aborted ? signal.reason : err;
    const error = reason instanceof GatewayError ? reason : errorFromException(reason, provider);
    reply.request.log.warn({ err: error.message, status: error.status }, "upstream stream failed after it started");
    res.write(`data: ${JSON.stringify(error.toBody())}\n\n`);
  }
  if (!res.destroyed) res.end();
}

/**
 * Flowing mode, not `for await`: the async iterator reads whatever has queued up in one piece, so
 * two events that arrive while the loop awaits would reach the client merged into one write.
 * Here every upstream read becomes one client write the moment it arrives; backpressure pauses
 * the upstream until the client drains.
 */
function pump(body: Readable, res: ServerResponse, tap: SseUsageTap): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const out = tap.push(chunk);
      if (out.length > 0 && !res.write(out)) body.pause();
    };
    const onDrain = () => body.resume();
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      body.off("data", onData);
      res.off("drain", onDrain);
      if (err) reject(err);
      else resolve();
    };
    const onEnd = () => {
      const rest = tap.flush();
      if (rest && !res.destroyed) res.write(rest);
      finish();
    };
    // The client went away: stop reading; the request's abort signal tears the upstream down.
    const onClose = () => finish();
    // The error listener stays after settling: a body torn down later must not throw unhandled.
    body.on("data", onData).once("end", onEnd).on("error", finish);
    res.on("drain", onDrain).once("close", onClose);
  });
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
