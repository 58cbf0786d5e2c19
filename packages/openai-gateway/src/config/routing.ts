/**
 * Providers and model names: from the config file (full case) or OPENAI_API_KEY / OPENAI_BASE_URL
 * (simple case), or the offline demo model when neither names an upstream.
 */
import { z } from "zod";
import { DEFAULT_OPENAI_BASE_URL, DEMO_MODEL } from "./defaults.ts";
import type { ConfigFile } from "./schema.ts";
import { ConfigError, type GatewayConfig, type ProviderConfig, type Target } from "./types.ts";

export type Routing = Pick<GatewayConfig, "providers" | "aliases" | "passthrough" | "demo">;

export function routingFromEnv(env: Record<string, string | undefined>): Routing {
  const apiKey = nonEmpty(env.OPENAI_API_KEY);
  const baseUrl = nonEmpty(env.OPENAI_BASE_URL);
  if (!apiKey && !baseUrl) {
    // No upstream at all: serve the offline demo model so a new user sees the whole path work.
    const demo = provider("demo", { type: "demo", baseUrl: "demo://offline" });
    return { providers: [demo], aliases: new Map([[DEMO_MODEL, [{ provider: demo.name, model: DEMO_MODEL }]]]), passthrough: undefined, demo: true };
  }
  const url = baseUrl ?? DEFAULT_OPENAI_BASE_URL;
  if (!z.url({ protocol: /^https?$/ }).safeParse(url).success) {
    throw new ConfigError(`OPENAI_BASE_URL: '${url}' is not an http(s) URL`);
  }
  const upstream = provider("openai", { type: "openai", baseUrl: url, apiKey });
  return { providers: [upstream], aliases: new Map(), passthrough: upstream.name, demo: false };
}

export function routingFromFile(file: ConfigFile): Routing {
  const providers = Object.entries(file.providers).map(([name, p]) => provider(name, p));
  const known = new Set(providers.map((p) => p.name));
  const check = (name: string, field: string): string => {
    if (!known.has(name)) throw new ConfigError(`${field}: unknown provider '${name}' (known: ${[...known].join(", ")})`);
    return name;
  };
  const aliases = new Map<string, Target[]>();
  for (const [alias, spec] of Object.entries(file.models)) {
    const specs = Array.isArray(spec) ? spec : [spec];
    aliases.set(
      alias,
      specs.map((t, i) => {
        const { provider: name, model } = typeof t === "string" ? splitTarget(t) : t;
        return { provider: check(name, `models.${alias}[${i}].provider`), model };
      }),
    );
  }
  const passthrough = file.passthrough !== undefined ? check(file.passthrough, "passthrough") : undefined;
  if (aliases.size === 0 && !passthrough) {
    throw new ConfigError("models: define at least one model alias, or name a `passthrough` provider");
  }
  return { providers, aliases, passthrough, demo: false };
}

function provider(
  name: string,
  p: { type: ProviderConfig["type"]; baseUrl: string; apiKey?: string | undefined; apiVersion?: string; headers?: Record<string, string> | undefined; streamUsage?: boolean },
): ProviderConfig {
  return {
    name,
    type: p.type,
    baseUrl: p.baseUrl.replace(/\/+$/, ""),
    apiKey: p.apiKey,
    apiVersion: p.apiVersion ?? "2024-10-21",
    headers: p.headers ?? {},
    streamUsage: p.streamUsage ?? true,
  };
}

/** Only the first slash splits: OpenRouter's model ids have slashes of their own. */
function splitTarget(t: string): { provider: string; model: string } {
  const slash = t.indexOf("/");
  return { provider: t.slice(0, slash), model: t.slice(slash + 1) };
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}
