/**
 * GET /usage: what keys used, grouped by key, model and day, as JSON or CSV; a key sees its own
 * rows, an admin key (`admin: true`) every key's or one named by `key=`. GET /usage/limits: the
 * calling key's limits and what is left of them now (an admin may ask for another key, or `key=*`).
 */
import type { FastifyInstance } from "fastify";
import type { ClientKey, KeyLimits } from "../../config/types.ts";
import { GatewayError } from "../../errors.ts";
import type { Admission } from "../../limits/admission.ts";
import type { LimitState, LimitStore } from "../../limits/types.ts";
import { mayUse } from "../../models/access.ts";
import { clientAuth } from "../plugins/client-auth.ts";
import type { UsageRecorder } from "../../usage/recorder.ts";
import { lineOf, parseUsageParams, toCsv } from "../../usage/usage-query.ts";

export interface UsageRouteDeps {
  clients: ClientKey[];
  recorder: UsageRecorder | undefined;
  store: LimitStore;
  admission: Admission;
  modelLimits: Map<string, KeyLimits>;
}

export async function usageRoutes(app: FastifyInstance, deps: UsageRouteDeps): Promise<void> {
  await app.register(clientAuth, { clients: deps.clients });

  app.get("/usage", async (request, reply) => {
    const client = request.client!;
    const params = parseUsageParams(request.query as Record<string, unknown>, Date.now());
    if (params.key !== undefined && params.key !== client.name && !client.admin) throw forbidden("A key reads its own usage only; every key's needs an admin key.");
    const recorder = deps.recorder;
    if (!recorder) throw new GatewayError(404, "Usage records are off on this gateway (usage.store: off).", { code: "usage_off" });
    // This process's rows still queued are written first, so a request is in the answer once it has ended.
    await recorder.flush();
    const key = client.admin ? params.key : client.name;
    const lines = (await recorder.store.query({ ...params.query, key })).map(lineOf);
    if (params.format === "csv") {
      return reply.header("content-type", "text/csv; charset=utf-8").header("content-disposition", 'attachment; filename="usage.csv"').send(toCsv(params.query.groupBy, lines));
    }
    return { object: "list", from: new Date(params.query.from).toISOString(), to: new Date(params.query.to).toISOString(), group_by: params.query.groupBy, data: lines };
  });

  app.get("/usage/limits", async (request) => {
    const client = request.client!;
    const asked = (request.query as Record<string, unknown>).key;
    if (asked !== undefined && asked !== client.name && !client.admin) throw forbidden("A key reads its own limits only; another key's needs an admin key.");
    if (asked === "*") return { object: "list", data: await Promise.all(deps.clients.map((c) => limitsOf(c))) };
    const target = asked === undefined || asked === client.name ? client : deps.clients.find((c) => c.name === asked);
    if (!target) throw new GatewayError(404, `No key is named '${String(asked)}'.`, { param: "key", code: "key_not_found" });
    return limitsOf(target);
  });

  async function limitsOf(client: ClientKey) {
    const now = Date.now();
    const { scopes, budget } = deps.admission.scopesOf(client, undefined, now);
    // The models whose own limits this key shares with every other key that uses them.
    const models = [...deps.modelLimits.keys()].filter((m) => mayUse(client.models, m));
    const modelScopes = models.flatMap((m) => deps.admission.scopesOf(client, m, now).scopes.filter((s) => s.id.startsWith("model:")));
    const state = await deps.store.peek([...scopes, ...modelScopes], budget);
    const own = scopes.length ? view(scopes[0]!.limits, state.scopes[0]!) : null;
    return {
      key: client.name,
      store: deps.store.kind,
      limits: own,
      models: Object.fromEntries(modelScopes.map((s, i) => [s.id.slice("model:".length), view(s.limits, state.scopes[scopes.length + i]!)])),
      budget:
        client.budget && budget
          ? {
              usd: client.budget.usd,
              period: client.budget.period,
              spent_usd: (state.spentMicros ?? 0) / 1e6,
              remaining_usd: Math.max(0, budget.limitMicros - (state.spentMicros ?? 0)) / 1e6,
              resets_at: budget.resetsAt === undefined ? null : new Date(budget.resetsAt).toISOString(),
            }
          : null,
    };
  }
}

function view(limits: KeyLimits, state: { requests: LimitState | undefined; tokens: LimitState | undefined; inFlight: number }) {
  const one = (s: LimitState | undefined) => (s ? { limit: s.limit, remaining: s.remaining, reset_ms: s.resetMs } : null);
  return {
    rpm: one(state.requests),
    tpm: one(state.tokens),
    concurrency: limits.concurrency === undefined ? null : { limit: limits.concurrency, in_flight: state.inFlight },
  };
}

const forbidden = (message: string) => new GatewayError(403, message, { type: "invalid_request_error", code: "forbidden" });
