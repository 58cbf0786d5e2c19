/**
 * Builds the GatewayConfig once, at start, from a config file (full case) or the environment
 * (simple case). Every problem becomes a ConfigError that names the field.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { configFileSchema, type ConfigFile } from "./schema.ts";
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HOST,
  DEFAULT_OPENAI_BASE_URL,
  DEFAULT_PORT,
  DEFAULT_RETRY,
  DEFAULT_SHUTDOWN_GRACE_MS,
  DEFAULT_TIMEOUTS,
  DEMO_MODEL,
} from "./defaults.ts";
import { ConfigError, type ClientKey, type GatewayConfig, type LogLevel, type Provider, type Target } from "./types.ts";

export interface LoadOptions {
  file?: string | undefined;
  host?: string | undefined;
  port?: number | undefined;
  env: Record<string, string | undefined>;
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

export function loadConfig(opts: LoadOptions): GatewayConfig {
  const { env } = opts;
  const file = opts.file ? readConfigFile(opts.file, env) : undefined;
  const logLevel = pickLogLevel(env.LOG_LEVEL ?? file?.logLevel);
  const host = opts.host ?? env.HOST ?? file?.server.host ?? DEFAULT_HOST;
  const port = opts.port ?? parsePort(env.PORT) ?? file?.server.port ?? DEFAULT_PORT;

  const routing = file ? routingFromFile(file) : routingFromEnv(env);
  const clients = [...(file ? clientsFromFile(file, env) : []), ...clientsFromEnv(env)];
  assertUniqueNames(clients);
  if (clients.length === 0 && !isLoopback(host)) {
    throw new ConfigError(
      `no client keys are configured, so the gateway refuses to listen on ${host}: ` +
        "set GATEWAY_API_KEYS (comma-separated) or `clients` in the config file, or listen on 127.0.0.1",
    );
  }

  return {
    host,
    port,
    bodyLimitBytes: file?.server.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    shutdownGraceMs: file?.server.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS,
    logLevel,
    ...routing,
    clients,
    timeouts: { ...DEFAULT_TIMEOUTS, ...file?.timeouts },
    retry: { ...DEFAULT_RETRY, ...file?.retry },
    secrets: routing.providers.flatMap(upstreamSecrets),
  };
}

// Extra headers that carry credentials (x-api-key, Proxy-Authorization, a session token...).
const CREDENTIAL_HEADER = /auth|key|token|secret|cookie|password|signature/i;

/** What a provider sends that an upstream's error text must never show back: its key and credential headers. */
function upstreamSecrets(p: Provider): string[] {
  const headers = Object.entries(p.headers).filter(([name]) => CREDENTIAL_HEADER.test(name)).map(([, value]) => value);
  // "Bearer abc" or "Basic abc": an upstream may echo the credential without its scheme.
  const bare = headers.flatMap((v) => /^\w+ (\S+)$/.exec(v)?.[1] ?? []);
  return [...(p.apiKey ? [p.apiKey] : []), ...headers, ...bare];
}

type Routing = Pick<GatewayConfig, "providers" | "aliases" | "passthrough" | "demo">;

function routingFromEnv(env: Record<string, string | undefined>): Routing {
  const apiKey = nonEmpty(env.OPENAI_API_KEY);
  const baseUrl = nonEmpty(env.OPENAI_BASE_URL);
  if (!apiKey && !baseUrl) {
    // No upstream at all: serve the offline demo model so a new user sees the whole path work.
    const demo = provider("demo", { type: "demo", baseUrl: "demo://offline" });
    return { providers: [demo], aliases: new Map([[DEMO_MODEL, [{ provider: demo, model: DEMO_MODEL }]]]), passthrough: undefined, demo: true };
  }
  const url = baseUrl ?? DEFAULT_OPENAI_BASE_URL;
  checkUrl(url, "OPENAI_BASE_URL");
  const upstream = provider("openai", { type: "openai", baseUrl: url, apiKey });
  return { providers: [upstream], aliases: new Map(), passthrough: upstream, demo: false };
}

function routingFromFile(file: ConfigFile): Routing {
  const providers = Object.entries(file.providers).map(([name, p]) => provider(name, p));
  const byName = new Map(providers.map((p) => [p.name, p]));
  const lookup = (name: string, field: string): Provider => {
    const p = byName.get(name);
    if (!p) throw new ConfigError(`${field}: unknown provider '${name}' (known: ${[...byName.keys()].join(", ")})`);
    return p;
  };
  const aliases = new Map<string, Target[]>();
  for (const [alias, spec] of Object.entries(file.models)) {
    const specs = Array.isArray(spec) ? spec : [spec];
    aliases.set(
      alias,
      specs.map((t, i) => {
        const { provider: name, model } = typeof t === "string" ? splitTarget(t) : t;
        return { provider: lookup(name, `models.${alias}[${i}].provider`), model };
      }),
    );
  }
  const passthrough = file.passthrough !== undefined ? lookup(file.passthrough, "passthrough") : undefined;
  if (aliases.size === 0 && !passthrough) {
    throw new ConfigError("models: define at least one model alias, or name a `passthrough` provider");
  }
  return { providers, aliases, passthrough, demo: false };
}

function clientsFromFile(file: ConfigFile, env: Record<string, string | undefined>): ClientKey[] {
  return file.clients.map((c, i) => {
    if (c.keyHash) return { name: c.name, hash: Buffer.from(c.keyHash.replace(/^sha256:/i, ""), "hex"), models: c.models };
    const key = nonEmpty(env[c.keyEnv!]);
    if (!key) throw new ConfigError(`clients[${i}].keyEnv: environment variable ${c.keyEnv} is not set`);
    return { name: c.name, hash: sha256(key), models: c.models };
  });
}

function clientsFromEnv(env: Record<string, string | undefined>): ClientKey[] {
  const keys = (env.GATEWAY_API_KEYS ?? "").split(",").map((k) => k.trim()).filter(Boolean);
  return keys.map((key, i) => ({ name: `env-key-${i + 1}`, hash: sha256(key), models: ["*"] }));
}

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function readConfigFile(path: string, env: Record<string, string | undefined>): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let raw: unknown;
  try {
    raw = extname(path) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid ${extname(path) === ".json" ? "JSON" : "YAML"}: ${(e as Error).message}`);
  }
  const result = configFileSchema.safeParse(substituteEnv(raw, env, []));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new ConfigError(`config file ${path} is invalid:\n${lines.join("\n")}`);
  }
  return result.data;
}

/** Replaces `${NAME}` in every string value; a missing variable is an error naming the field. */
function substituteEnv(value: unknown, env: Record<string, string | undefined>, path: (string | number)[]): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const v = env[name];
      if (v === undefined || v === "") {
        throw new ConfigError(`${path.join(".")}: environment variable ${name} is not set`);
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path, i]));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k])]));
  }
  return value;
}

function provider(
  name: string,
  p: { type: Provider["type"]; baseUrl: string; apiKey?: string | undefined; apiVersion?: string; headers?: Record<string, string> | undefined },
): Provider {
  return {
    name,
    type: p.type,
    baseUrl: p.baseUrl.replace(/\/+$/, ""),
    apiKey: p.apiKey,
    apiVersion: p.apiVersion ?? "2024-10-21",
    headers: p.headers ?? {},
  };
}

function splitTarget(t: string): { provider: string; model: string } {
  const slash = t.indexOf("/");
  return { provider: t.slice(0, slash), model: t.slice(slash + 1) };
}

function assertUniqueNames(clients: ClientKey[]): void {
  const seen = new Set<string>();
  for (const c of clients) {
    if (seen.has(c.name)) throw new ConfigError(`clients: the name '${c.name}' is used twice`);
    seen.add(c.name);
  }
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`PORT: '${value}' is not a port number (0-65535)`);
  return n;
}

function pickLogLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === "") return "info";
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL: '${value}' is not one of ${LOG_LEVELS.join(", ")}`);
  }
  return level as LogLevel;
}

function checkUrl(value: string, field: string): void {
  if (!z.url({ protocol: /^https?$/ }).safeParse(value).success) {
    throw new ConfigError(`${field}: '${value}' is not an http(s) URL`);
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}
