/**
 * The one place errors become responses: every error a handler or hook throws, Fastify's own
 * errors and unknown URLs are rendered in OpenAI's error shape with the GatewayError's status and
 * headers. Unexpected errors are logged with their stack and reach the client as a plain 500.
 *
 * @example
 * app.register(errorHandler);
 */
import type { FastifyError, FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { clip } from "../../client-text.ts";
import { GatewayError, badRequest } from "../../errors.ts";
import { keepsConnection } from "./json-body.ts";

export const errorHandler = fp(
  async function errorHandler(app: FastifyInstance) {
    app.setErrorHandler((err: FastifyError | GatewayError, request, reply) => {
      const error = toGatewayError(err);
      if (error.status >= 500 && !(err instanceof GatewayError)) request.log.error({ err }, "unexpected error");
      else request.log.debug({ status: error.status, message: error.message }, "request failed");
      // Fastify asked for `connection: close` after a body error; a body being drained keeps it (json-body).
      if (keepsConnection(request.raw)) reply.removeHeader("connection");
      return reply.code(error.status).headers(error.headers).send(error.toBody());
    });
    app.setNotFoundHandler((request, reply) => {
      const path = clip(request.url.split("?")[0] ?? "", 256);
      const error = new GatewayError(404, `Unknown request URL: ${request.method} ${path}.`, { code: "unknown_url" });
      return reply.code(404).send(error.toBody());
    });
  },
  { name: "error-handler" },
);

/** Fastify's own errors (bad content type, bad URL...) in the gateway's error model. */
export function toGatewayError(err: FastifyError | GatewayError): GatewayError {
  if (err instanceof GatewayError) return err;
  switch (err.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new GatewayError(415, "Unsupported content type: send the body as 'Content-Type: application/json'.", { code: "unsupported_media_type" });
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return badRequest("The request's content-length does not match its body.", null, "invalid_body");
  }
  const status = err.statusCode ?? 500;
  if (status < 500) return new GatewayError(status, clip(err.message, 512));
  return new GatewayError(500, "The gateway hit an internal error.", { code: "internal_error" });
}
