/**
 * The MCP server's settings: each from its environment variable, overridden by its flag, checked
 * once at start with zod. An unconfigured server still starts (clients list tools before anyone
 * configured it); its tool calls then answer with the problems found here.
 */
import { z } from "zod";

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Settings {
  /** Base URL ending in /v1. */
  gatewayUrl: string;
  gatewayApiKey: string;
  defaultModel: string;
  /** Per attempt: long enough for a whole generation (see SETTINGS.timeout). */
  timeoutMs: number;
  maxRetries: number;
  logLevel: LogLevel;
}

/** Each setting: its environment variable, its flag, and how it is checked. */
export const SETTINGS = {
  gatewayUrl: { env: "GATEWAY_URL", flag: "gateway-url", describe: "Base URL of the gateway, with or without /v1 (required)" },
  gatewayApiKey: { env: "GATEWAY_API_KEY", flag: "gateway-api-key", describe: "Client key for the gateway (required)" },
  defaultModel: { env: "DEFAULT_MODEL", flag: "default-model", describe: "Model used when a call names none", default: "gpt-3.5-turbo" },
  // A plain answer arrives whole, so one attempt must outlast the slowest generation (a reasoning
  // model's takes minutes): the gateway's own first-byte limit. A plain answer that outlasts it is
  // not asked for again; the MCP client's own cancellation ends a call sooner when it wants.
  timeout: { env: "TIMEOUT", flag: "timeout", describe: "Seconds per attempt, as long as the gateway lets a model take to answer; a plain answer that outlasts it is not asked for again", default: "300" },
  maxRetries: { env: "MAX_RETRIES", flag: "max-retries", describe: "Retries after a failed attempt", default: "3" },
  logLevel: { env: "LOG_LEVEL", flag: "log-level", describe: "debug, info, warn or error", default: "info" },
  transport: { env: "MCP_TRANSPORT", flag: "transport", describe: "stdio, or http: MCP over Streamable HTTP at /mcp", default: "stdio" },
  host: { env: "HOST", flag: "host", describe: "With http: the address to listen on", default: "127.0.0.1" },
  port: { env: "PORT", flag: "port", describe: "With http: the port to listen on (0: any free one)", default: "3000" },
  // No default and not required: without keys it serves only loopback.
  apiKeys: { env: "MCP_API_KEYS", flag: "api-keys", describe: "With http: comma-separated keys that clients send as Authorization: Bearer; required off loopback", optional: true },
} as const;

export type SettingName = keyof typeof SETTINGS;
export type RawSettings = Partial<Record<SettingName, string | undefined>>;

const required = z.string({ error: "is not set" }).trim().min(1, "is not set");

const schema = z.object({
  gatewayUrl: required.pipe(z.url({ protocol: /^https?$/, error: "is not an http(s) URL" })).transform(withV1),
  gatewayApiKey: required,
  defaultModel: z.string().trim().min(1, "is empty"),
  timeout: z.coerce.number({ error: "is not a number of seconds" }).positive("must be above 0").max(3600, "must be at most 3600"),
  maxRetries: z.coerce.number({ error: "is not a whole number" }).int("is not a whole number").min(0, "must be 0 or more").max(10, "must be at most 10"),
  logLevel: z.enum(LOG_LEVELS, { error: `is not one of ${LOG_LEVELS.join(", ")}` }),
});

export type SettingsResult =
  | { ok: true; settings: Settings }
  | { ok: false; problems: string[]; logLevel: LogLevel };

/** Flags win over the environment; empty values count as unset. */
export function readSettings(flags: RawSettings, env: Record<string, string | undefined>): SettingsResult {
  const raw: Record<string, string | undefined> = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const value = [flags[name], env[spec.env]].find((v) => v !== undefined && v.trim() !== "");
    raw[name] = value ?? ("default" in spec ? spec.default : undefined);
  }
  const result = schema.safeParse(raw);
  if (result.success) {
    const { timeout, ...rest } = result.data;
    return { ok: true, settings: { ...rest, timeoutMs: Math.round(timeout * 1000) } };
  }
  const problems = result.error.issues.map((issue) => {
    const name = issue.path[0] as SettingName;
    const spec = SETTINGS[name];
    // Never echo the key, even a malformed one.
    const shown = name === "gatewayApiKey" || raw[name] === undefined ? "" : ` (got '${raw[name]}')`;
    return `${spec.env} (--${spec.flag}) ${issue.message}${shown}`;
  });
  const level = LOG_LEVELS.find((l) => l === raw.logLevel) ?? "info";
  return { ok: false, problems, logLevel: level };
}

export interface ListenSettings {
  transport: "stdio" | "http";
  host: string;
  port: number;
  /** Keys clients must present over HTTP; empty: none asked for (loopback only). */
  apiKeys: string[];
}

/** A listen setting that is wrong: the server cannot start, unlike one that only its tools need. */
export class ListenError extends Error {
  override readonly name = "ListenError";
}

/** How the server is reached: checked before it starts, and fatal when wrong (exit 1). */
export function readListen(flags: RawSettings, env: Record<string, string | undefined>): ListenSettings {
  const pick = (name: "transport" | "host" | "port" | "apiKeys") => {
    const spec = SETTINGS[name];
    const value = [flags[name], env[spec.env]].find((v) => v !== undefined && v.trim() !== "");
    return (value ?? ("default" in spec ? spec.default : "")).trim();
  };
  const named = (name: "transport" | "host" | "port" | "apiKeys") => `${SETTINGS[name].env} (--${SETTINGS[name].flag})`;
  const transport = pick("transport").toLowerCase();
  if (transport !== "stdio" && transport !== "http") throw new ListenError(`${named("transport")} must be stdio or http (got '${transport}')`);
  const port = Number(pick("port"));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ListenError(`${named("port")} is not a port number 0-65535 (got '${pick("port")}')`);
  const apiKeys = pick("apiKeys").split(",").map((k) => k.trim()).filter(Boolean);
  return { transport, host: pick("host"), port, apiKeys };
}

/** Accept the gateway's base URL with or without a trailing /v1. */
function withV1(url: string): string {
  const base = url.replace(/\/+$/, "");
  return base.endsWith("/v1") ? base : `${base}/v1`;
}
