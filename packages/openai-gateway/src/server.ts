/**
 * Builds the gateway: one Fastify app whose request path reads top to bottom —
 * route -> auth (onRequest) -> validate (route) -> pick upstream -> forward -> relay -> metrics/log (on close).
 */
import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from "fastify";
import { pino, type DestinationStream } from "pino";
import { Agent } from "undici";
import { createAuthenticator } from "./auth/client-keys.ts";
import type { GatewayConfig } from "./config/types.ts";
import { GatewayError, badRequest } from "./errors.ts";
import { createMetrics } from "./metrics.ts";
import { chatCompletionsRoute } from "./routes/chat-completions.ts";
import type { GatewayContext } from "./routes/context.ts";
import { embeddingsRoute } from "./routes/embeddings.ts";
import { healthRoutes } from "./routes/health.ts";
import { modelsRoutes } from "./routes/models.ts";
import { createModelCatalog } from "./routing/model-catalog.ts";
import { createModelRouter } from "./routing/model-router.ts";
import { createDemoProvider } from "./upstream/demo-provider.ts";
import { createForwarder } from "./upstream/forward.ts";
import { createHttpProvider } from "./upstream/http-provider.ts";
import type { ProviderClient } from "./upstream/types.ts";
import { createScrubber } from "./upstream/upstream-errors.ts";

export interface Gateway {
  app: FastifyInstance;
  context: GatewayContext;
  /** Stop accepting, let open requests finish, release the upstream pool. */
  close(): Promise<void>;
  /** Write out buffered log lines (before process.exit). */
  flushLogs(): void;
}

export interface GatewayOptions {
  /** Where JSON log lines go (default stdout). */
  logDestination?: DestinationStream;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  const destination = options.logDestination ?? pino.destination({ dest: 1, sync: false });
  const logger = pino(
    {
      level: config.logLevel,
      redact: { paths: ["req.headers.authorization", "req.headers[\"api-key\"]", "headers.authorization"], censor: "[redacted]" },
    },
    destination,
  );
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // One access line per request instead (see onRequest), written when it ends.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    forceCloseConnections: "idle",
    // While draining, Fastify would answer a request that arrives on a kept-alive connection with a
    // 503 body of its own. Node instead serves it and closes the connection after it (`connection:
    // close`): nothing is lost, and the client's next request opens a connection elsewhere.
    return503OnClosing: false,
    // The router rejects a malformed URL before any hook or error handler runs: render it in OpenAI's shape too.
    frameworkErrors: (err, _request, reply) => {
      const error = toGatewayError(err);
      reply.raw.writeHead(error.status, { "content-type": "application/json" }).end(JSON.stringify(error.toBody()));
    },
  });

  const agent = new Agent({ connectTimeout: config.timeouts.connectMs, keepAliveTimeout: 30_000 });
  const providers = new Map<string, ProviderClient>(
    config.providers.map((p) => [p.name, p.type === "demo" ? createDemoProvider() : createHttpProvider(p, agent, config.timeouts)]),
  );
  const metrics = createMetrics();
  const forwarder = createForwarder({ providers, retry: config.retry, scrub: createScrubber(config.secrets), metrics });
  const context: GatewayContext = {
    config,
    router: createModelRouter(config),
    catalog: createModelCatalog(config, forwarder),
    forwarder,
    metrics,
    authenticate: createAuthenticator(config.clients),
    draining: false,
  };

  app.decorateRequest("client", undefined);
  app.decorateRequest("publicModel", undefined);

  // Plain JSON.parse instead of Fastify's prototype-poisoning-safe parser: bodies are only ever
  // spread into fresh objects and serialised again, never merged, and this is the hot path.
  // Dropping the other parsers makes any non-JSON content type a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      done(badRequest(`We could not parse the JSON body of your request: ${(e as Error).message}`, null, "invalid_json"), undefined);
    }
  });

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    const start = performance.now();
    reply.raw.once("close", () => {
      const finished = reply.raw.writableFinished;
      const status = finished ? reply.raw.statusCode : 499;
      const route = request.routeOptions.url ?? "unmatched";
      const model = request.publicModel ?? "";
      const key = request.client?.name ?? "";
      const seconds = (performance.now() - start) / 1000;
      metrics.requests.inc({ route, method: request.method, status: String(status), model, key });
      metrics.duration.observe({ route, model }, seconds);
      request.log.info(
        { method: request.method, url: request.url, status, model: model || undefined, key: key || undefined, ms: Math.round(seconds * 1e4) / 10 },
        finished ? "request completed" : "client went away",
      );
    });
  });

  app.setErrorHandler((err: FastifyError | GatewayError, request, reply) => {
    const error = toGatewayError(err);
    if (error.status >= 500 && !(err instanceof GatewayError)) request.log.error({ err }, "unexpected error");
    else request.log.debug({ status: error.status, message: error.message }, "request failed");
    return reply.code(error.status).headers(error.headers).send(error.toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = new GatewayError(404, `Unknown request URL: ${request.method} ${request.url.split("?")[0]}.`, { code: "unknown_url" });
    return reply.code(404).send(error.toBody());
  });

  healthRoutes(app, context);
  app.register(async (v1) => {
    v1.addHook("onRequest", async (request) => {
      request.client = context.authenticate(request.headers.authorization);
    });
    modelsRoutes(v1, context);
    chatCompletionsRoute(v1, context);
    embeddingsRoute(v1, context);
  });
  app.addHook("onClose", async () => {
    await agent.close();
  });

  return {
    app,
    context,
    async close() {
      context.draining = true;
      // app.close() closes idle keep-alive connections only once, at the start; a connection whose
      // request finishes later would hold it open until the client drops it (keepAliveTimeout 72 s).
      // Node skips connections with a response still in flight.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
    },
    flushLogs() {
      const d = destination as { flushSync?: () => void };
      try {
        d.flushSync?.();
      } catch {
        // nothing buffered, or the stream is already gone
      }
    },
  };
}

/** Fastify's own errors (body too large, bad content type...) in the gateway's error model. */
function toGatewayError(err: FastifyError | GatewayError): GatewayError {
  if (err instanceof GatewayError) return err;
  switch (err.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new GatewayError(415, "Unsupported content type: send the body as 'Content-Type: application/json'.", { code: "unsupported_media_type" });
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new GatewayError(413, "The request body is larger than this gateway accepts.", { code: "request_too_large" });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return badRequest("The request body is empty; send a JSON object.", null, "invalid_body");
  }
  const status = err.statusCode ?? 500;
  if (status < 500) return new GatewayError(status, err.message);
  return new GatewayError(500, "The gateway hit an internal error.", { code: "internal_error" });
}
