/**
 * What the HTTP layer rejects before any route runs, answered in OpenAI's error shape like
 * everything else: requests Node's parser refuses (a broken request line, a bad header, headers
 * over Node's limit, a request that never arrived in full), an HTTP/1.1 request without Host, and
 * an Expect header other than 100-continue. Node and Fastify would answer these with empty bodies
 * or bodies of their own that clients cannot parse.
 *
 * @example
 * const app = Fastify({ clientErrorHandler: answerClientError, http: { requireHostHeader: false } });
 * app.register(protocolErrors);
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { GatewayError, badRequest } from "../../errors.ts";

export const protocolErrors = fp(
  async function protocolErrors(app: FastifyInstance) {
    // Node answers a missing Host itself with an empty 400 unless told not to check (requireHostHeader: false).
    app.addHook("onRequest", (request, _reply, done) => {
      if (request.raw.httpVersion === "1.1" && request.headers.host === undefined) {
        return done(badRequest("An HTTP/1.1 request must carry a Host header.", null, "missing_host_header"));
      }
      done();
    });
    // Without a listener Node answers an unknown expectation with an empty 417.
    app.server.on("checkExpectation", (_req: IncomingMessage, res: ServerResponse) => {
      const error = new GatewayError(417, "The Expect header asks for something this gateway does not do (only 100-continue).", { code: "expectation_failed" });
      const body = JSON.stringify(error.toBody());
      res.writeHead(417, { "content-type": "application/json", "content-length": Buffer.byteLength(body), connection: "close" }).end(body);
    });
  },
  { name: "protocol-errors" },
);

/** Fastify's `clientErrorHandler`: what Node's HTTP parser (or its request timeout) rejected, on the bare socket. */
export function answerClientError(err: NodeJS.ErrnoException & { reason?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const error = describe(err);
    const body = JSON.stringify(error.toBody());
    socket.write(
      `HTTP/1.1 ${error.status} ${REASONS[error.status] ?? "Bad Request"}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroySoon();
}

const REASONS: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 413: "Payload Too Large", 431: "Request Header Fields Too Large" };

function describe(err: NodeJS.ErrnoException & { reason?: string }): GatewayError {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return new GatewayError(431, "The request's headers are larger than this gateway accepts.", { code: "request_header_fields_too_large" });
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new GatewayError(408, "The request did not arrive in full in time.", { code: "request_timeout" });
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return new GatewayError(413, "The request's chunk extensions are larger than this gateway accepts.", { code: "request_too_large" });
  }
  // llhttp's reason ("Invalid header value char") says what was wrong; it never quotes the request.
  const reason = typeof err.reason === "string" ? `: ${err.reason.slice(0, 120)}` : "";
  return badRequest(`The request is not valid HTTP/1.1${reason}.`, null, "invalid_http_request");
}
