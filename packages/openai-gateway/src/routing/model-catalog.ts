/**
 * What GET /v1/models shows a client: the aliases, plus (with a passthrough provider) the upstream's
 * own list, filtered to the models the key may use. The upstream list is cached for a minute: model
 * lists change rarely and some clients fetch them on every page load.
 */
import type { ClientKey, GatewayConfig } from "../config/types.ts";
import { modelNotFound, upstreamTimeout } from "../errors.ts";
import type { Forwarder } from "../upstream/forward.ts";
import { mayUse } from "./model-access.ts";

export interface ModelObject {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export interface ModelCatalog {
  list(client: ClientKey, requestId: string): Promise<ModelObject[]>;
  get(id: string, client: ClientKey, requestId: string): Promise<ModelObject>;
}

const CACHE_MS = 60_000;
const LIST_TIMEOUT_MS = 30_000;

export function createModelCatalog(config: GatewayConfig, forwarder: Forwarder): ModelCatalog {
  const created = Math.floor(Date.now() / 1000);
  const aliases: ModelObject[] = [...config.aliases].map(([id, targets]) => ({
    id,
    object: "model",
    created,
    owned_by: targets[0]!.provider.name,
  }));
  let cached: { at: number; models: Promise<ModelObject[]> } | undefined;

  const upstreamModels = (requestId: string): Promise<ModelObject[]> => {
    const passthrough = config.passthrough;
    if (!passthrough) return Promise.resolve([]);
    if (cached && performance.now() - cached.at < CACHE_MS) return cached.models;
    const models = forwarder
      .forward({
        targets: [{ provider: passthrough, model: "" }],
        model: "(list)",
        method: "GET",
        path: "/models",
        bodyFor: () => undefined,
        stream: false,
        requestId,
        signal: timeoutSignal(LIST_TIMEOUT_MS),
        deadline: performance.now() + LIST_TIMEOUT_MS,
      })
      .then(({ body }) => {
        const data = (JSON.parse(body!.toString("utf8")) as { data?: ModelObject[] }).data;
        return Array.isArray(data) ? data.filter((m) => typeof m?.id === "string") : [];
      });
    cached = { at: performance.now(), models };
    models.catch(() => {
      cached = undefined; // never cache a failure
    });
    return models;
  };

  const all = async (requestId: string): Promise<ModelObject[]> => {
    const upstream = await upstreamModels(requestId);
    return [...aliases, ...upstream.filter((m) => !config.aliases.has(m.id))];
  };

  return {
    async list(client, requestId) {
      return (await all(requestId)).filter((m) => mayUse(client.models, m.id));
    },
    async get(id, client, requestId) {
      if (!mayUse(client.models, id)) throw modelNotFound(id);
      const found = (await all(requestId)).find((m) => m.id === id);
      if (!found) throw modelNotFound(id);
      return found;
    },
  };
}

/** Like AbortSignal.timeout, but its reason is the gateway's 504, which is what the client should get. */
function timeoutSignal(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(upstreamTimeout(`model list, ${ms} ms`)), ms).unref();
  return controller.signal;
}
