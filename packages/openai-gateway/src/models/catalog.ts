/**
 * What GET /v1/models shows a client: the aliases, plus (with a passthrough provider) the upstream's
 * own list, filtered to the models the key may use. The upstream list is cached for a minute: model
 * lists change rarely and some clients fetch them on every page load. When the upstream's list
 * fails, the aliases are still served (the log says which provider failed); only a gateway with
 * nothing but passthrough has to answer with the upstream's error.
 */
import type { FastifyBaseLogger } from "fastify";
import type { ClientKey, GatewayConfig } from "../config/types.ts";
import { GatewayError, modelNotFound, upstreamBadResponse, upstreamTimeout } from "../errors.ts";
import type { Forwarder } from "../upstream/forward.ts";
import { mayUse } from "./access.ts";

export interface ModelObject {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export interface ModelCatalog {
  list(client: ClientKey, requestId: string): Promise<ModelObject[]>;
  get(id: string, client: ClientKey, requestId: string): Promise<ModelObject>;
  /** Abandons a list fetch in flight and its timer. */
  close(): void;
}

const CACHE_MS = 60_000;
const LIST_TIMEOUT_MS = 30_000;

export function createModelCatalog(config: Pick<GatewayConfig, "aliases" | "passthrough">, forwarder: Forwarder, log: FastifyBaseLogger): ModelCatalog {
  const created = Math.floor(Date.now() / 1000);
  const aliases: ModelObject[] = [...config.aliases].map(([id, targets]) => ({ id, object: "model", created, owned_by: targets[0]!.provider }));
  const closing = new AbortController();
  let cached: { at: number; models: Promise<ModelObject[]> } | undefined;

  const fetchList = async (provider: string, requestId: string): Promise<ModelObject[]> => {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(upstreamTimeout(`model list, ${LIST_TIMEOUT_MS} ms`)), LIST_TIMEOUT_MS);
    try {
      const { body } = await forwarder.forward({
        targets: [{ provider, model: "" }],
        model: "(list)",
        method: "GET",
        path: "/models",
        bodyFor: () => undefined,
        stream: false,
        addsStreamUsage: false,
        requestId,
        signal: AbortSignal.any([timeout.signal, closing.signal]),
        deadline: performance.now() + LIST_TIMEOUT_MS,
      });
      let data: unknown;
      try {
        data = (JSON.parse(body!.toString("utf8")) as { data?: unknown }).data;
      } catch {
        throw upstreamBadResponse(provider, "its model list is not JSON");
      }
      if (!Array.isArray(data)) throw upstreamBadResponse(provider, "its model list has no `data` array");
      return data.filter((m): m is ModelObject => typeof (m as ModelObject | null)?.id === "string");
    } finally {
      clearTimeout(timer);
    }
  };

  const upstreamModels = (requestId: string): Promise<ModelObject[]> => {
    const provider = config.passthrough;
    if (!provider) return Promise.resolve([]);
    if (cached && performance.now() - cached.at < CACHE_MS) return cached.models;
    const models = fetchList(provider, requestId);
    cached = { at: performance.now(), models };
    models.catch(() => {
      cached = undefined; // never cache a failure
    });
    return models;
  };

  const all = async (requestId: string): Promise<ModelObject[]> => {
    let upstream: ModelObject[];
    try {
      upstream = await upstreamModels(requestId);
    } catch (err) {
      if (aliases.length === 0 || !(err instanceof GatewayError)) throw err;
      log.warn({ provider: config.passthrough, status: err.status, err: err.message }, "the upstream's model list failed: listing the aliases only");
      return aliases;
    }
    return [...aliases, ...upstream.filter((m) => !config.aliases.has(m.id))];
  };

  return {
    async list(client, requestId) {
      return (await all(requestId)).filter((m) => mayUse(client.models, m.id));
    },
    async get(id, client, requestId) {
      if (!mayUse(client.models, id)) throw modelNotFound(id);
      // An alias needs no upstream to be known.
      const found = aliases.find((m) => m.id === id) ?? (await all(requestId)).find((m) => m.id === id);
      if (!found) throw modelNotFound(id);
      return found;
    },
    close() {
      closing.abort(new GatewayError(503, "The gateway is shutting down.", { code: "shutting_down" }));
    },
  };
}
