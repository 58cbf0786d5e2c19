/** The client keys: from the config file (hashes, or variables holding the key) and from GATEWAY_API_KEYS. Only hashes are kept. */
import { createHash } from "node:crypto";
import type { ConfigFile } from "./schema.ts";
import { ConfigError, type ClientKey } from "./types.ts";

export function clientsFrom(file: ConfigFile | undefined, env: Record<string, string | undefined>): ClientKey[] {
  const clients = [...(file ? fromFile(file, env) : []), ...fromEnv(env)];
  const seen = new Set<string>();
  for (const c of clients) {
    if (seen.has(c.name)) throw new ConfigError(`clients: the name '${c.name}' is used twice`);
    seen.add(c.name);
  }
  return clients;
}

function fromFile(file: ConfigFile, env: Record<string, string | undefined>): ClientKey[] {
  return file.clients.map((c, i) => {
    const rest = { models: c.models, tools: c.tools, admin: c.admin, ...(c.limits ? { limits: c.limits } : {}), ...(c.budget ? { budget: c.budget } : {}) };
    if (c.keyHash) return { name: c.name, hash: Buffer.from(c.keyHash.replace(/^sha256:/i, ""), "hex"), ...rest };
    const key = env[c.keyEnv!]?.trim();
    if (!key) throw new ConfigError(`clients[${i}].keyEnv: environment variable ${c.keyEnv} is not set`);
    return { name: c.name, hash: sha256(key), ...rest };
  });
}

function fromEnv(env: Record<string, string | undefined>): ClientKey[] {
  const keys = (env.GATEWAY_API_KEYS ?? "").split(",").map((k) => k.trim()).filter(Boolean);
  // The simple case's keys may use every model and every tool.
  return keys.map((key, i) => ({ name: `env-key-${i + 1}`, hash: sha256(key), models: ["*"], tools: ["*"], admin: false }));
}

export function sha256(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
