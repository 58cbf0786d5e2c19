/**
 * The client's side of a stream: one SSE response, opened once with the headers the reply already
 * carries (x-request-id now; rate-limit headers later), written event by event, possibly from
 * several upstream streams in turn (a tool loop), with comments as keepalives, and ended with
 * either the upstream's own end or one OpenAI error event.
 */
import type { ServerResponse } from "node:http";
import { formatComment } from "@mcpgw/openai-protocol";
import type { FastifyReply } from "fastify";
import type { GatewayError } from "../errors.ts";

export class EventStream {
  private readonly res: ServerResponse;

  private constructor(res: ServerResponse) {
    this.res = res;
  }

  /** Takes the response over from Fastify and sends the status and headers (with `first`, in one write). */
  static open(reply: FastifyReply, contentType: string, first?: string | Buffer): EventStream {
    const headers = reply.getHeaders() as Record<string, string | number | string[]>;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...headers,
      "content-type": contentType,
      "cache-control": "no-cache",
      "x-accel-buffering": "no", // tell nginx-like proxies in front not to buffer either
    });
    if (first !== undefined && first.length > 0) res.write(first);
    else res.flushHeaders();
    return new EventStream(res);
  }

  /** False when the client is slow: wait for onDrain before writing more. */
  write(data: string | Buffer): boolean {
    if (this.res.destroyed) return true;
    return data.length === 0 || this.res.write(data);
  }

  /** A comment line: clients ignore it, proxies and load balancers see the stream is alive. */
  keepalive(text: string): void {
    if (!this.res.destroyed) this.res.write(formatComment(text));
  }

  /** The stream failed after it started: one error event in OpenAI's shape (the SDKs raise it). */
  fail(error: GatewayError): void {
    if (!this.res.destroyed) this.res.write(`data: ${JSON.stringify(error.toBody())}\n\n`);
  }

  end(): void {
    if (!this.res.destroyed) this.res.end();
  }

  get closed(): boolean {
    return this.res.destroyed;
  }

  /** Calls `drained` each time a slow client has caught up and `gone` when it leaves; returns the unsubscribe. */
  watch(drained: () => void, gone: () => void): () => void {
    this.res.on("drain", drained).once("close", gone);
    return () => this.res.off("drain", drained).off("close", gone);
  }
}
