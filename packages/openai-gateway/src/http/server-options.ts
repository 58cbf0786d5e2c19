/**
 * The Node HTTP(S) server under Fastify, set up as nginx sets up its own: the headers must arrive
 * within headersTimeoutMs, the whole request within requestTimeoutMs, an idle kept-alive connection
 * is closed after keepAliveTimeoutMs (the body's own gaps are bodyTimeoutMs, in the json-body
 * plugin); HTTPS when server.tls is set. Fastify leaves requestTimeout at 0 (never) by default.
 */
import type { FastifyServerOptions } from "fastify";
import type { ServerSettings } from "../config/types.ts";
import { answerClientError } from "./plugins/protocol-errors.ts";

export function serverOptions(server: ServerSettings): Partial<FastifyServerOptions> & { https?: object; http?: object } {
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(server.headersTimeoutMs, server.requestTimeoutMs);
  const node = {
    requireHostHeader: false, // answered in OpenAI's shape by the protocol-errors plugin
    headersTimeout,
    // How often Node checks those two timeouts (30 s by default, which would let a 1 s timeout run 30 s).
    connectionsCheckingInterval: Math.max(100, Math.min(15_000, Math.floor(headersTimeout / 4))),
  };
  return {
    ...(server.tls ? { https: { ...node, cert: server.tls.cert, key: server.tls.key } } : { http: node }),
    keepAliveTimeout: server.keepAliveTimeoutMs,
    requestTimeout: server.requestTimeoutMs,
    // A socket-level idle timeout would also cut a stream that is waiting for a slow model.
    connectionTimeout: 0,
    clientErrorHandler: answerClientError,
  };
}
