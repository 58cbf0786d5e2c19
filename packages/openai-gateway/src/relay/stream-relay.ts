/**
 * Relays an upstream SSE stream to the client event by event as it arrives. Once the first byte
 * has gone out nothing is retried: a failure mid-stream becomes an OpenAI error event, then the end.
 */
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
  res.flushHeaders();
  try {
    for await (const chunk of upstream.body) {
      const out = tap.push(chunk as Buffer);
      if (out.length > 0 && !res.write(out)) await drained(res);
      if (res.destroyed) return;
    }
    const rest = tap.flush();
    if (rest) res.write(rest);
  } catch (err) {
    if (res.destroyed) return;
    const reason = signal.aborted ? signal.reason : err;
    const error = reason instanceof GatewayError ? reason : errorFromException(reason, provider);
    reply.request.log.warn({ err: error.message, status: error.status }, "upstream stream failed after it started");
    res.write(`data: ${JSON.stringify(error.toBody())}\n\n`);
  }
  res.end();
}

function drained(res: NodeJS.WritableStream & { destroyed: boolean }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
