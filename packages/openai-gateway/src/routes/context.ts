import type { ClientKey, GatewayConfig } from "../config/types.ts";
import type { Metrics } from "../metrics.ts";
import type { ModelCatalog } from "../routing/model-catalog.ts";
import type { ModelRouter } from "../routing/model-router.ts";
import type { Forwarder } from "../upstream/forward.ts";

/** What the routes share, built once at start. */
export interface GatewayContext {
  config: GatewayConfig;
  router: ModelRouter;
  catalog: ModelCatalog;
  forwarder: Forwarder;
  metrics: Metrics;
  authenticate(authorization: string | undefined): ClientKey;
  /** Set when SIGTERM arrived: /ready says so, so load balancers stop sending. */
  draining: boolean;
}

declare module "fastify" {
  interface FastifyRequest {
    client: ClientKey | undefined;
    /** The model name the client asked for, for metrics and logs. */
    publicModel: string | undefined;
  }
}
