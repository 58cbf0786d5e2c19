/**
 * One AbortSignal per client request, aborted when the client goes away (so its upstream request
 * is cancelled at once, streaming or not) or when the total timeout passes. The abort reason tells
 * the two apart.
 */
import type { FastifyReply } from "fastify";
import { upstreamTimeout } from "./errors.ts";

export const CLIENT_GONE = Object.freeze(new Error("the client closed the connection"));

export interface RequestLifetime {
  signal: AbortSignal;
  /** performance.now() value of the total deadline. */
  deadline: number;
  end(): void;
}

export function requestLifetime(reply: FastifyReply, totalMs: number): RequestLifetime {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(upstreamTimeout(`total ${totalMs} ms`)), totalMs);
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(CLIENT_GONE);
  };
  reply.raw.once("close", onClose);
  return {
    signal: controller.signal,
    deadline: performance.now() + totalMs,
    end() {
      clearTimeout(timer);
      reply.raw.off("close", onClose);
    },
  };
}

/**
 * Runs one model request within its lifetime: a client that left gets nothing (the reply is
 * hijacked so Fastify sends nothing either), and the lifetime's timer goes with the request.
 */
export async function withinLifetime(reply: FastifyReply, totalMs: number, work: (life: RequestLifetime) => Promise<FastifyReply>): Promise<FastifyReply> {
  const life = requestLifetime(reply, totalMs);
  try {
    return await work(life);
  } catch (err) {
    if (err === CLIENT_GONE) {
      reply.hijack(); // nobody is listening; nothing to send
      return reply;
    }
    throw err;
  } finally {
    life.end();
  }
}
