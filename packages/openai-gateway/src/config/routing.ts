/**
 * Providers and model names: from the config file (full case) or OPENAI_API_KEY / OPENAI_BASE_URL
 * (simple case), or the offline demo model when neither names an upstream.
 */
import { z } from "zod";
import { DEFAULT_MAX_TOOL_ROUNDS, DEFAULT_OPENAI_BASE_URL, DEMO_MODEL, MCP_GATEWAY_MODEL } from "./defaults.ts";
import type { ConfigFile } from "./schema.ts";
import { ConfigError, type GatewayConfig, type KeyLimits, type ProviderConfig, type Target, type ToolModelSettings } from "./types.ts";

export type Routing = Pick<GatewayConfig, "providers" | "aliases" | "passthrough" | "demo" | "toolModels"> & { modelLimits?: Map<string, KeyLimits> };

/** What routing needs to know of the MCP servers: whether there are any, and the model `mcp-gateway` runs on. */
export interface McpRouting {
  servers: boolean;
  model: string;
}

export function routingFromEnv(env: Record<string, string | undefined>, mcp: McpRouting): Routing {
  const apiKey = nonEmpty(env.OPENAI_API_KEY);
  const baseUrl = nonEmpty(env.OPENAI_BASE_URL);
  if (!apiKey && !baseUrl) {
    // No upstream at all: serve the offline demo model so a new user sees the whole path work.
    const demo = provider("demo", { type: "demo", baseUrl: "demo://offline" });
    const aliases = new Map([[DEMO_MODEL, [{ provider: demo.name, model: DEMO_MODEL }]]]);
    return withMcpGateway({ providers: [demo], aliases, passthrough: undefined, demo: true, toolModels: new Map() }, mcp, { provider: demo.name, model: DEMO_MODEL });
  }
  const url = baseUrl ?? DEFAULT_OPENAI_BASE_URL;
  if (!z.url({ protocol: /^https?$/ }).safeParse(url).success) {
    throw new ConfigError(`OPENAI_BASE_URL: '${url}' is not an http(s) URL`);
  }
  const upstream = provider("openai", { type: "openai", baseUrl: url, apiKey });
  return withMcpGateway({ providers: [upstream], aliases: new Map(), passthrough: upstream.name, demo: false, toolModels: new Map() }, mcp, { provider: upstream.name, model: mcp.model });
}

export function routingFromFile(file: ConfigFile, mcp: McpRouting): Routing {
  if (!file.providers && !mcp.servers) {
    throw new ConfigError("providers: at least one provider is required (or give mcpServers for a gateway that serves tools only)");
  }
  const providers = Object.entries(file.providers ?? {}).map(([name, p]) => provider(name, p));
  const known = new Set(providers.map((p) => p.name));
  const check = (name: string, field: string): string => {
    if (!known.has(name)) throw new ConfigError(`${field}: unknown provider '${name}' (known: ${[...known].join(", ")})`);
    return name;
  };
  const aliases = new Map<string, Target[]>();
  const toolModels = new Map<string, ToolModelSettings>();
  const modelLimits = new Map<string, KeyLimits>();
  for (const [alias, spec] of Object.entries(file.models)) {
    const settings = typeof spec === "object" && !Array.isArray(spec) && "targets" in spec ? spec : undefined;
    // The object form is a tool-enabled model (as it always was, `{ targets }` alone included),
    // except one that gives only targets and limits: a plain model with limits of its own.
    const toolSetting = settings && (settings.tools !== undefined || settings.instructions !== undefined || settings.maxToolRounds !== undefined || settings.toolDisplay !== undefined);
    const tooled = settings && (toolSetting || settings.limits === undefined) ? settings : undefined;
    if (settings?.limits) modelLimits.set(alias, settings.limits);
    type TargetSpec = string | { provider: string; model: string };
    const targets = (settings ? settings.targets : spec) as TargetSpec | TargetSpec[];
    const list: TargetSpec[] = Array.isArray(targets) ? targets : [targets];
    const field = settings ? `models.${alias}.targets` : `models.${alias}`;
    aliases.set(
      alias,
      list.map((t, i) => {
        const { provider: name, model } = typeof t === "string" ? splitTarget(t) : t;
        return { provider: check(name, `${field}[${i}].provider`), model };
      }),
    );
    if (tooled) {
      toolModels.set(alias, {
        selectors: tooled.tools ?? [],
        instructions: tooled.instructions,
        maxToolRounds: tooled.maxToolRounds ?? DEFAULT_MAX_TOOL_ROUNDS,
        toolDisplay: tooled.toolDisplay ?? "none",
      });
    }
  }
  const passthrough = file.passthrough !== undefined ? check(file.passthrough, "passthrough") : undefined;
  if (aliases.size === 0 && !passthrough && !mcp.servers) {
    throw new ConfigError("models: define at least one model alias, or name a `passthrough` provider");
  }
  const routing = { providers, aliases, passthrough, demo: false, toolModels, modelLimits };
  return passthrough ? withMcpGateway(routing, mcp, { provider: passthrough, model: mcp.model }) : routing;
}

/**
 * With MCP servers, the model `mcp-gateway` has every tool and runs on MCP_MODEL (the simple case),
 * unless the config names a model so itself.
 */
function withMcpGateway(routing: Routing, mcp: McpRouting, target: Target): Routing {
  if (!mcp.servers || routing.aliases.has(MCP_GATEWAY_MODEL)) return routing;
  routing.aliases.set(MCP_GATEWAY_MODEL, [target]);
  routing.toolModels.set(MCP_GATEWAY_MODEL, { selectors: ["*"], instructions: undefined, maxToolRounds: DEFAULT_MAX_TOOL_ROUNDS, toolDisplay: "none" });
  return routing;
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
