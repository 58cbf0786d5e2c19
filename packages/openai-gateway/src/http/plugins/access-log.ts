/**
 * One access line and one count per request, written when its response closes however it closes
 * (finished, or the client gone: status 499), and the request id echoed in `x-request-id`. The
 * model a request asked for is logged shortened, and becomes a metric label only when it is a
 * configured alias or an upstream accepted it (`request.modelAccepted`): clients choose
 * passthrough names, and every label value is a new time series.
 *
 * @example
 * app.register(accessLog, { metrics });
 * // in a route, once the upstream answered:
 * request.requestedModel = body.model; request.modelAccepted = true;
 */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { clip } from "../../client-text.ts";
import type { Metrics } from "../../observability/metrics.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The model name the request asked for, for the access log. */
    requestedModel: string | undefined;
    /** Whether that name is a configured alias or an upstream accepted it, so that it may label metrics. */
    modelAccepted: boolean;
  }
}

export const accessLog = fp(
  async function accessLog(app: FastifyInstance, opts: { metrics: Metrics }) {
    const { metrics } = opts;
    app.decorateRequest("requestedModel", undefined);
    app.decorateRequest("modelAccepted", false);
    app.addHook("onRequest", (request, reply, done) => {
      reply.header("x-request-id", request.id);
      const start = performance.now();
      reply.raw.once("close", () => {
        const finished = reply.raw.writableFinished;
        const status = finished ? reply.raw.statusCode : 499;
        const route = request.routeOptions.url ?? "unmatched";
        const model = request.modelAccepted ? metrics.modelLabel(request.requestedModel) : "";
        const key = request.client?.name ?? "";
        const seconds = (performance.now() - start) / 1000;
        metrics.requests.inc({ route, method: request.method, status: String(status), model, key });
        metrics.duration.observe({ route, model }, seconds);
        request.log.info(
          {
            method: request.method,
            url: clip(request.url, 1024),
            status,
            model: request.requestedModel === undefined ? undefined : clip(request.requestedModel, 256),
            key: key || undefined,
            ms: Math.round(seconds * 1e4) / 10,
          },
          finished ? "request completed" : "client went away",
        );
      });
      done();
    });
  },
  { name: "access-log" },
);
