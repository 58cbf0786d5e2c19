/**
 * The composition root: builds each part once from the config and hands each route only what it
 * uses. The request path reads top to bottom: access log and request id -> protocol checks -> auth (onRequest,
 * before the body is read) -> body (json-body) -> validate (route) -> pick upstream -> forward ->
 * relay -> metrics and log (when the response closes). Upstream keys go into the provider clients
 * and nowhere else.
 */
import { randomUUID } from "node:crypto";
import fastifyCors from "@fastify/cors";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { DestinationStream } from "pino";
import { createCompletions } from "./chat/completion.ts";
import { createChatService } from "./chat-sessions/chat-service.ts";
import { createToolLoop } from "./chat/tool-loop.ts";
import { isLoopback } from "./config/load.ts";
import type { GatewayConfig } from "./config/types.ts";
import { accessLog } from "./http/plugins/access-log.ts";
import { clientAuth } from "./http/plugins/client-auth.ts";
import { errorHandler, toGatewayError } from "./http/plugins/error-handler.ts";
import { jsonBody } from "./http/plugins/json-body.ts";
import { protocolErrors } from "./http/plugins/protocol-errors.ts";
import { chatRoutes } from "./http/routes/chat.ts";
import { mcpRoutes } from "./http/routes/mcp.ts";
import { createAdmission, type Admission } from "./limits/admission.ts";
import { createLimitStore } from "./limits/store.ts";
import type { LimitStore } from "./limits/types.ts";
import { dashboardRoutes } from "./http/routes/dashboard.ts";
import { moreEndpointsRoutes } from "./http/routes/v1/more-endpoints.ts";
import { responsesRoutes } from "./http/routes/v1/responses.ts";
import { audioRoutes } from "./http/routes/v1/audio.ts";
import { createResponseDirectory } from "./responses/directory.ts";
import { createResponsesMcpLoop } from "./responses/mcp-loop.ts";
import { usageRoutes } from "./http/routes/usage.ts";
import type { UsageRecorder } from "./usage/recorder.ts";
import { createUsageRecorder } from "./usage/store.ts";
import { inheritedEnv } from "./mcp/clients/stdio-env.ts";
import { healthRoutes } from "./http/routes/health.ts";
import { rootRoute } from "./http/routes/root.ts";
import { chatCompletionsRoute } from "./http/routes/v1/chat-completions.ts";
import { embeddingsRoute } from "./http/routes/v1/embeddings.ts";
import { toolsRoutes } from "./http/routes/tools.ts";
import { modelsRoutes } from "./http/routes/v1/models.ts";
import { serverOptions } from "./http/server-options.ts";
import { createModelCatalog } from "./models/catalog.ts";
import { createMcpRegistry } from "./mcp/clients/registry.ts";
import type { McpRegistry } from "./mcp/clients/types.ts";
import { serverSecrets } from "./mcp/server-secrets.ts";
import { createModelRouter } from "./models/router.ts";
import { createLogger } from "./observability/logger.ts";
import { createMetrics } from "./observability/metrics.ts";
import { createForwarder } from "./upstream/forward.ts";
import { createProviderClients } from "./upstream/provider-clients.ts";
import { VERSION } from "./version.ts";

export interface Gateway {
  app: FastifyInstance;
  /** Takes the MCP servers of a reloaded config (SIGHUP, --watch): added connect, removed close, changed restart. */
  reloadMcpServers(servers: GatewayConfig["mcpServers"]): Promise<{ added: string[]; removed: string[]; restarted: string[] }>;
  /** Stop accepting, let open requests finish, release the upstream pool. */
  close(): Promise<void>;
  /** Write out buffered log lines (before process.exit). */
  flushLogs(): void;
}

export interface GatewayOptions {
  /** Where JSON log lines go (default stdout; readable lines when it is a terminal). */
  logDestination?: DestinationStream;
  /** Serve the MCP tools (/tools), health and metrics, but no /v1: the `tools` command. */
  toolsOnly?: boolean;
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const MCP_CHILD_GRACE_MS = 5_000;
/** /mcp sessions: one with nothing open for half an hour ends; at most this many at once (the longest idle makes room). */
const MCP_SESSION_IDLE_MS = 30 * 60_000;
const MCP_MAX_SESSIONS = 1000;

export function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Gateway {
  const { logger, flush } = createLogger(config.logLevel, config.logFormat, options.logDestination);
  const app = Fastify({
    ...serverOptions(config.server),
    loggerInstance: logger as FastifyBaseLogger,
    // One access line per request instead (the access-log plugin), written when it ends.
    logController: new LogController({ disableRequestLogging: true }),
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

  const upstream = createProviderClients(config.providers, config.timeouts, config.mcpServers.flatMap(serverSecrets));
  const metrics = createMetrics();
  const forwarder = createForwarder({
    providers: upstream.clients,
    retry: config.retry,
    scrub: upstream.scrub,
    metrics,
    responseLimitBytes: config.server.responseLimitBytes,
    log: app.log,
  });
  // The model parts get the names they route by, not the config object (which holds the keys).
  const names = { aliases: config.aliases, passthrough: config.passthrough };
  const catalog = createModelCatalog(names, forwarder, app.log);
  const router = createModelRouter(names);
  const completions = createCompletions({ router, forwarder, metrics, totalMs: config.timeouts.totalMs });
  // MCP servers start connecting now, in the background. The registry exists without servers too (a
  // reload may add some); the MCP SDK is loaded only when a server connects.
  const registry: McpRegistry = createMcpRegistry({ servers: config.mcpServers, log: app.log, metrics: metrics.mcp });
  // The servers as configured now (a reload replaces them): /mcp/{server} connects to them itself.
  let mcpServers = new Map(config.mcpServers.map((s) => [s.name, s]));
  registry.start();
  const toolLoop = createToolLoop({
    router,
    forwarder,
    registry,
    metrics,
    scrub: upstream.scrub,
    totalMs: config.timeouts.totalMs,
    resultLimitBytes: config.tools.resultLimitBytes,
    keepaliveMs: config.tools.keepaliveMs,
  });
  const directory = createResponseDirectory();
  const mcpLoop = createResponsesMcpLoop({
    forwarder,
    registry,
    directory,
    metrics,
    scrub: upstream.scrub,
    totalMs: config.timeouts.totalMs,
    resultLimitBytes: config.tools.resultLimitBytes,
    keepaliveMs: config.tools.keepaliveMs,
  });
  // Limits, budgets and usage records (limits/, usage/): their stores open before any route is
  // registered (plugins load in order), so the routes below get them ready; a request's meter
  // settles its reservation and writes its usage row when it ends.
  let limitStore: LimitStore;
  let recorder: UsageRecorder | undefined;
  let admission: Admission;
  app.decorateRequest("meter", undefined);
  app.register(async () => {
    limitStore = await createLimitStore(config.limits, app.log, metrics);
    recorder = await createUsageRecorder(config.usage, app.log, metrics);
    admission = createAdmission({ store: limitStore, settings: config.limits, aliases: config.aliases, recorder, metrics });
  });
  const chat = createChatService({ settings: config.chat, routing: config, router, toolLoop, log: app.log });
  const described = {
    demo: config.demo,
    providers: config.providers.map((p) => ({ name: p.name, type: p.type })),
    models: [...config.aliases.keys()],
    passthrough: config.passthrough ?? null,
  };
  let draining = false;

  // Browser pages of these origins may call the gateway; without server.cors, no CORS header at all.
  // The request headers a preflight asks for are allowed as asked (no allowedHeaders list): the
  // origin is what is checked, and the openai SDK in a browser sends x-stainless-* headers of its own.
  if (config.server.corsOrigins) {
    const origins = config.server.corsOrigins;
    app.register(fastifyCors, {
      origin: origins.includes("*") ? "*" : origins,
      methods: ["GET", "POST", "DELETE", "OPTIONS"],
      exposedHeaders: ["x-request-id", "x-session-id", "x-should-retry", "retry-after", "mcp-session-id"],
      maxAge: 600,
    });
  }
  app.register(accessLog, { metrics });
  app.register(protocolErrors);
  app.register(errorHandler);
  app.register(jsonBody, { bodyLimitBytes: config.server.bodyLimitBytes, bodyTimeoutMs: config.server.bodyTimeoutMs, jsonDepthLimit: config.server.jsonDepthLimit });
  app.register(async (probes) =>
    healthRoutes(probes, {
      registry: metrics.registry,
      readiness: {
        // A required MCP server that is not ready makes the gateway not ready; the others only show.
        ready: () => !draining && registry.requiredReady(),
        status: () => (draining ? "draining" : !registry.requiredReady() ? "waiting for required MCP servers" : "ready"),
        describe: () => {
          const mcpServers = registry.statuses();
          return mcpServers.length > 0 ? { ...described, mcpServers } : described;
        },
      },
    }),
  );
  app.register(async (root) => rootRoute(root, { version: VERSION, v1: !options.toolsOnly, tools: () => registry.statuses().length > 0 }));
  if (!options.toolsOnly) app.register(async (sessions) => chatRoutes(sessions, { chat, clients: config.clients, admission }));
  if (!options.toolsOnly) {
    app.register(async (usage) => usageRoutes(usage, { clients: config.clients, recorder, store: limitStore, admission, modelLimits: config.limits.models }));
    app.register(async (pages) => dashboardRoutes(pages, { needsKey: config.clients.length > 0 }));
  }
  if (!options.toolsOnly) app.register(async (v1) => {
    await v1.register(clientAuth, { clients: config.clients });
    modelsRoutes(v1, { catalog });
    chatCompletionsRoute(v1, { completions, toolLoop, toolModels: config.toolModels, admission });
    embeddingsRoute(v1, { completions, admission });
    moreEndpointsRoutes(v1, { completions, admission });
    responsesRoutes(v1, { completions, admission, router, directory, registry, mcpLoop });
    await v1.register(audioRoutes, { completions, admission, uploadLimitBytes: config.server.uploadLimitBytes, bodyTimeoutMs: config.server.bodyTimeoutMs });
  });
  app.register(async (mcp) =>
    mcpRoutes(mcp, {
      registry,
      clients: config.clients,
      scrub: upstream.scrub,
      version: VERSION,
      loopback: isLoopback(config.server.host),
      allowedOrigins: config.server.corsOrigins ?? [],
      idleMs: MCP_SESSION_IDLE_MS,
      maxSessions: MCP_MAX_SESSIONS,
      server: (name) => mcpServers.get(name),
      defaultModel: options.toolsOnly ? undefined : (client) => chat.defaultModel(client),
      inheritedEnv: inheritedEnv(process.env),
    }),
  );
  app.register(async (tools) =>
    toolsRoutes(tools, { registry, clients: config.clients, publicDocs: config.tools.publicDocs, scrub: upstream.scrub, totalMs: config.timeouts.totalMs, version: VERSION }),
  );
  app.addHook("onClose", async () => {
    catalog.close();
    chat.close();
    // Children that ignore SIGTERM get SIGKILL after this; open requests have had their grace already.
    await registry.close(Math.min(config.server.shutdownGraceMs, MCP_CHILD_GRACE_MS));
    await upstream.close();
    // After the requests (their rows are queued when they end): what is queued is written now.
    await recorder?.close();
    await limitStore.close();
  });

  return {
    app,
    reloadMcpServers(servers) {
      mcpServers = new Map(servers.map((s) => [s.name, s]));
      // Before any new server starts: a tool of it may echo its credentials at once.
      upstream.scrub.learn(servers.flatMap(serverSecrets));
      return registry.update(servers, Math.min(config.server.shutdownGraceMs, MCP_CHILD_GRACE_MS));
    },
    async close() {
      draining = true;
      // app.close() closes idle keep-alive connections only once, at the start; a connection whose
      // request finishes later would hold it open until the client drops it (keepAliveTimeout).
      // Node skips connections with a response still in flight.
      const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
    },
    flushLogs: flush,
  };
}
