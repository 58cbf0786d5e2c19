/**
 * Maps the public model name a client asks for to the ordered upstream targets that serve it:
 * an alias's targets (tried in order: fallback), or the passthrough provider with the name unchanged.
 * A model the key may not use resolves exactly like one that does not exist.
 */
import type { ClientKey, GatewayConfig, Target } from "../config/types.ts";
import { modelNotFound } from "../errors.ts";
import { mayUse } from "./access.ts";

export interface Route {
  targets: Target[];
  /** A configured alias (a name the operator chose, so it may label metrics whatever the upstream says). */
  alias: boolean;
}

export interface ModelRouter {
  resolve(model: string, client: ClientKey): Route;
}

export function createModelRouter(config: Pick<GatewayConfig, "aliases" | "passthrough">): ModelRouter {
  const { aliases, passthrough } = config;
  return {
    resolve(model, client) {
      if (!mayUse(client.models, model)) throw modelNotFound(model);
      const targets = aliases.get(model);
      if (targets) return { targets, alias: true };
      if (passthrough) return { targets: [{ provider: passthrough, model }], alias: false };
      throw modelNotFound(model);
    },
  };
}
