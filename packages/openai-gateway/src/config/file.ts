/** Reads the config file (YAML, or JSON by its extension), replaces `${NAME}` references and checks it against the schema. */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import { configFileSchema, type ConfigFile } from "./schema.ts";
import { ConfigError } from "./types.ts";

export function readConfigFile(path: string, env: Record<string, string | undefined>): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const json = extname(path) === ".json";
  let raw: unknown;
  try {
    raw = json ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid ${json ? "JSON" : "YAML"}: ${(e as Error).message}`);
  }
  return checkConfig(raw, env, `config file ${path}`);
}

/** A config given as a value (the `tools` command builds one): checked exactly like a file. */
export function checkConfig(raw: unknown, env: Record<string, string | undefined>, where: string): ConfigFile {
  const result = configFileSchema.safeParse(substituteEnv(raw, env, []));
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join(".") || "(top level)"}: ${i.message}`);
    throw new ConfigError(`${where} is invalid:\n${lines.join("\n")}`);
  }
  return result.data;
}

/** Replaces `${NAME}` in every string value; a missing variable is an error naming the field. */
export function substituteEnv(value: unknown, env: Record<string, string | undefined>, path: (string | number)[]): unknown {
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
