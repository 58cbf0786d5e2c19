/**
 * docs/configuration.md against the code it documents: the gateway's config file schema (zod),
 * its defaults, the environment variables it reads, and the MCP server's SETTINGS. Any drift
 * either way (a key the doc lacks, a key the code lacks, a default that differs) fails here.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { configFileSchema } from "../../openai-gateway/src/config/schema.ts";
import * as defaults from "../../openai-gateway/src/config/defaults.ts";
import { loadConfig } from "../../openai-gateway/src/config/load.ts";
import { SETTINGS } from "../../openai-gateway-mcp/src/settings.ts";
import { codeSpans, column, fences, markdownFiles, read, REPO, statedDefault, tableAfter, where, type Table } from "./support/markdown.ts";

const DOC = "docs/configuration.md";
const doc = read(DOC);

// ---- the schema, walked ----------------------------------------------------------------------

interface ZodLike {
  _zod: { def: Record<string, unknown> & { type: string } };
}

interface SchemaKey {
  /** `server.port`, `providers.*.baseUrl`, `clients[].models`, `models.*[].provider` */
  path: string;
  /** The zod `.default()` on this key, if any. */
  zodDefault?: unknown;
}

const SCALAR = new Set(["string", "number", "int", "boolean", "enum", "literal", "bigint", "null", "date", "template_literal"]);

/**
 * Every leaf key a config file can hold. A record's keys are `*`, a list entry is `[]`; a union
 * contributes each object option's keys, and the key itself when an option is a scalar (a model
 * target may be a string or an object). Records of scalars (`headers`) are leaves.
 */
function schemaKeys(schema: ZodLike, path = "", out = new Map<string, SchemaKey>(), zodDefault?: unknown): Map<string, SchemaKey> {
  const def = schema._zod.def;
  const leaf = () => {
    const key = out.get(path) ?? { path };
    if (zodDefault !== undefined) key.zodDefault = zodDefault;
    out.set(path, key);
  };
  switch (def.type) {
    case "default":
    case "prefault": {
      const value = typeof def.defaultValue === "function" ? (def.defaultValue as () => unknown)() : def.defaultValue;
      return schemaKeys(def.innerType as ZodLike, path, out, value);
    }
    case "optional":
    case "nullable":
    case "readonly":
    case "catch":
      return schemaKeys(def.innerType as ZodLike, path, out, zodDefault);
    case "pipe":
      return schemaKeys(def.in as ZodLike, path, out, zodDefault);
    case "object":
      for (const [k, v] of Object.entries(def.shape as Record<string, ZodLike>)) schemaKeys(v, path ? `${path}.${k}` : k, out);
      return out;
    case "record": {
      const value = def.valueType as ZodLike;
      if (SCALAR.has(value._zod.def.type)) leaf();
      else schemaKeys(value, `${path}.*`, out);
      return out;
    }
    case "array":
      return schemaKeys(def.element as ZodLike, `${path}[]`, out, zodDefault);
    case "union":
      for (const option of def.options as ZodLike[]) {
        if (SCALAR.has(option._zod.def.type)) leaf();
        else schemaKeys(option, path, out, zodDefault);
      }
      return out;
    default:
      if (SCALAR.has(def.type)) {
        // A list of scalars (`clients[].models`) is one key: its default belongs to the list.
        path = path.replace(/\[\]$/, "");
        leaf();
        return out;
      }
      throw new Error(`config-docs.test does not know zod type '${def.type}' at '${path}': teach schemaKeys about it`);
  }
}

/** The doc writes `providers.<name>.baseUrl` and `models.<alias>[].provider`; the walk, `*` and `[]`. */
function normalise(key: string): string {
  return key.replace(/<[^>]+>/g, "*").replace(/\[\]/g, "");
}

const schema = schemaKeys(configFileSchema as unknown as ZodLike);
const schemaByKey = new Map([...schema.values()].map((k) => [normalise(k.path), k]));

// ---- the doc's tables ------------------------------------------------------------------------

function rowsByFirstCode(table: Table, what: string): Map<string, { line: number; cells: string[] }> {
  const out = new Map<string, { line: number; cells: string[] }>();
  for (const row of table.rows) {
    const key = codeSpans(row.cells[0] ?? "")[0];
    assert.ok(key, `${where(DOC, row.line)}: a ${what} row must start with the key in backticks`);
    assert.ok(!out.has(key), `${where(DOC, row.line)}: ${what} '${key}' appears twice`);
    out.set(key, row);
  }
  return out;
}

const fileTable = tableAfter(doc, /Gateway config file keys/);
const fileRows = rowsByFirstCode(fileTable, "config file key");
const fileDefaultCol = column(fileTable, "default");
const envTable = tableAfter(doc, /Gateway environment variables/);
const envRows = rowsByFirstCode(envTable, "environment variable");
const envDefaultCol = column(envTable, "default");

/** How a default reads in a doc cell: strings bare, everything else as JSON (`8080`, `["*"]`). */
const shown = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

// ---- the defaults, from the code -------------------------------------------------------------

const tmp = mkdtempSync(join(tmpdir(), "config-docs-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The config that a file naming only what is required produces: the defaults as applied. */
function minimalFileConfig() {
  const file = join(tmp, "minimal.json");
  writeFileSync(
    file,
    JSON.stringify({
      providers: { p: { baseUrl: "http://127.0.0.1:9/v1" } },
      passthrough: "p",
      clients: [{ name: "c", keyHash: "0".repeat(64), budget: { usd: 1 } }],
      // One tool-enabled model, one stdio and one remote MCP server: the defaults of their keys.
      models: { t: { targets: "p/m" } },
      mcpServers: { s: { command: "x" }, r: { url: "http://127.0.0.1:9/mcp" } },
    }),
  );
  return loadConfig({ file, env: {} });
}

/** Every config file key with a default, mapped to that default as the code applies it. */
function appliedFileDefaults(): Map<string, unknown> {
  const c = minimalFileConfig();
  const p = c.providers[0]!;
  const out = new Map<string, unknown>([
    ["providers.*.type", p.type],
    ["providers.*.apiVersion", p.apiVersion],
    ["providers.*.streamUsage", p.streamUsage],
    ["clients.models", c.clients[0]!.models],
    ["clients.tools", c.clients[0]!.tools],
    ["logLevel", c.logLevel],
  ]);
  const t = c.toolModels.get("t")!;
  out.set("models.*.tools", t.selectors).set("models.*.maxToolRounds", t.maxToolRounds).set("models.*.toolDisplay", t.toolDisplay);
  const stdio = c.mcpServers.find((x) => x.name === "s")!;
  const remote = c.mcpServers.find((x) => x.name === "r")!;
  if (stdio.transport.type === "stdio") out.set("mcpServers.*.args", stdio.transport.args).set("mcpServers.*.env", stdio.transport.env);
  if (remote.transport.type !== "stdio") out.set("mcpServers.*.headers", remote.transport.headers);
  out.set("mcpServers.*.disabledTools", stdio.disabledTools).set("mcpServers.*.toolTimeoutMs", stdio.toolTimeoutMs).set("mcpServers.*.required", stdio.required);
  // A server is left out only when disabled: both are here, so `disabled` defaulted to false.
  out.set("mcpServers.*.disabled", !(stdio && remote));
  for (const [k, v] of Object.entries(c.tools)) out.set(`tools.${k}`, v);
  for (const [k, v] of Object.entries(c.server)) if (v !== undefined) out.set(`server.${k}`, v);
  for (const [k, v] of Object.entries(c.timeouts)) out.set(`timeouts.${k}`, v);
  for (const [k, v] of Object.entries(c.retry)) out.set(`retry.${k}`, v);
  // Paths as written, relative to what they are resolved against; the ttl in its largest whole unit.
  out.set("dataDir", relative(process.cwd(), c.dataDir)).set("chat.store", relative(c.dataDir, c.chat.store)).set("chat.ttl", asDuration(c.chat.ttlMs));
  out.set("chat.maxMessages", c.chat.maxMessages).set("chat.maxSessionsPerKey", c.chat.maxSessionsPerKey);
  out.set("limits.completionEstimate", c.limits.completionEstimate);
  out.set("limits.store", c.limits.store).set("limits.expectedReplicas", c.limits.expectedReplicas).set("limits.leaseTtl", asDuration(c.limits.leaseTtlMs));
  // The default store is named `sqlite` and lands as usage.db in the data directory.
  out.set("usage.store", c.usage.store === join(c.dataDir, "usage.db") ? "sqlite" : c.usage.store).set("usage.retention", asDuration(c.usage.retentionMs));
  out.set("clients.admin", c.clients[0]!.admin).set("clients.budget.period", c.clients[0]!.budget!.period);
  return out;
}

function asDuration(ms: number): string {
  const units = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const;
  const [unit, size] = units.find(([, size]) => ms % size === 0) ?? ["s", 1000];
  return `${ms / size}${unit}`;
}

/** The same keys, from config/defaults.ts (and zod's `.default()`s). */
function declaredFileDefaults(): Map<string, unknown> {
  const out = new Map<string, unknown>([
    ["server.host", defaults.DEFAULT_HOST],
    ["server.port", defaults.DEFAULT_PORT],
    ["server.bodyLimitBytes", defaults.DEFAULT_BODY_LIMIT_BYTES],
    ["server.responseLimitBytes", defaults.DEFAULT_RESPONSE_LIMIT_BYTES],
    ["server.jsonDepthLimit", defaults.DEFAULT_JSON_DEPTH_LIMIT],
    ["server.headersTimeoutMs", defaults.DEFAULT_HEADERS_TIMEOUT_MS],
    ["server.bodyTimeoutMs", defaults.DEFAULT_BODY_TIMEOUT_MS],
    ["server.requestTimeoutMs", defaults.DEFAULT_REQUEST_TIMEOUT_MS],
    ["server.keepAliveTimeoutMs", defaults.DEFAULT_KEEP_ALIVE_TIMEOUT_MS],
    ["server.shutdownGraceMs", defaults.DEFAULT_SHUTDOWN_GRACE_MS],
    ["tools.resultLimitBytes", defaults.DEFAULT_TOOL_RESULT_LIMIT_BYTES],
    ["tools.keepaliveMs", defaults.DEFAULT_TOOL_KEEPALIVE_MS],
    ["dataDir", defaults.DEFAULT_DATA_DIR],
    ["chat.store", defaults.DEFAULT_CHAT_STORE],
    ["chat.ttl", defaults.DEFAULT_CHAT_TTL],
    ["chat.maxMessages", defaults.DEFAULT_CHAT_MAX_MESSAGES],
    ["chat.maxSessionsPerKey", defaults.DEFAULT_CHAT_MAX_SESSIONS_PER_KEY],
    ["limits.completionEstimate", defaults.DEFAULT_COMPLETION_ESTIMATE],
    ["limits.store", "memory"],
    ["limits.expectedReplicas", 1],
    ["limits.leaseTtl", defaults.DEFAULT_LEASE_TTL],
    ["usage.store", "sqlite"],
    ["usage.retention", defaults.DEFAULT_USAGE_RETENTION],
    // A tool-enabled model's settings default in the loader (the schema leaves them out, to tell a
    // tool-enabled model from one with limits only).
    ["models.*.tools", []],
    ["models.*.maxToolRounds", defaults.DEFAULT_MAX_TOOL_ROUNDS],
    ["models.*.toolDisplay", "none"],
  ]);
  for (const [k, v] of Object.entries(defaults.DEFAULT_TIMEOUTS)) out.set(`timeouts.${k}`, v);
  for (const [k, v] of Object.entries(defaults.DEFAULT_RETRY)) out.set(`retry.${k}`, v);
  for (const [key, k] of schemaByKey) if (k.zodDefault !== undefined) out.set(key, k.zodDefault);
  return out;
}

/**
 * The environment variables read under `dir` (`env.NAME`, `env["NAME"]`, `process.env.NAME`), but
 * not under `skip`: the gateway's are its own; those of `openai-gateway chat` (src/chat-cli, a
 * client of the gateway) are documented with that command.
 */
function envVarsInSource(dir = join(REPO, "packages/openai-gateway/src"), skip = join(REPO, "packages/openai-gateway/src/chat-cli")): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (path === skip) continue;
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        for (const m of text.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\])/g)) {
          found.set(m[1] ?? m[2]!, path.slice(REPO.length));
        }
      }
    }
  };
  walk(dir);
  return found;
}

// ---- tests -----------------------------------------------------------------------------------

describe("gateway config file keys", () => {
  test("the schema walk finds the keys this test expects to see (so an empty walk cannot pass)", () => {
    for (const key of ["server.port", "providers.*.baseUrl", "models.*", "models.*.provider", "clients.keyHash", "retry.maxAttempts", "logLevel"]) {
      assert.ok(schemaByKey.has(key), `schema walk lacks ${key}; found: ${[...schemaByKey.keys()].join(", ")}`);
    }
  });

  test("every key of configFileSchema is in the doc's table", () => {
    const documented = new Set([...fileRows.keys()].map(normalise));
    const missing = [...schema.values()].filter((k) => !documented.has(normalise(k.path))).map((k) => k.path);
    assert.deepEqual(missing, [], `${DOC} lacks config file keys: ${missing.join(", ")}`);
  });

  test("every key in the doc's table exists in configFileSchema", () => {
    const unknown = [...fileRows].filter(([key]) => !schemaByKey.has(normalise(key))).map(([key, row]) => `${key} (${where(DOC, row.line)})`);
    assert.deepEqual(unknown, [], `${DOC} documents keys the schema does not have: ${unknown.join(", ")}`);
  });

  test("config/defaults.ts and zod's defaults are the defaults the loader applies", () => {
    const declared = declaredFileDefaults();
    const applied = appliedFileDefaults();
    for (const [key, value] of declared) assert.deepEqual(applied.get(key), value, `${key}: declared ${shown(value)}, applied ${shown(applied.get(key))}`);
  });

  test("every default in the doc equals the code's; keys without one say so", () => {
    const expected = new Map([...declaredFileDefaults(), ...appliedFileDefaults()]);
    for (const [key, row] of fileRows) {
      const stated = statedDefault(row.cells[fileDefaultCol] ?? "");
      const want = expected.get(normalise(key));
      const at = where(DOC, row.line);
      if (want === undefined) assert.equal(stated, undefined, `${at}: '${key}' has no default in the code, but the doc says \`${stated}\``);
      else assert.equal(stated, shown(want), `${at}: '${key}' defaults to \`${shown(want)}\` in the code, the doc says ${stated === undefined ? "none" : `\`${stated}\``}`);
    }
  });
});

describe("gateway environment variables", () => {
  test("every variable the gateway's source reads is in the doc's table, and no other", () => {
    const inSource = envVarsInSource();
    assert.ok(inSource.size >= 6, `expected to find the gateway's env reads, found ${[...inSource.keys()].join(", ")}`);
    const missing = [...inSource].filter(([name]) => !envRows.has(name)).map(([name, file]) => `${name} (read in ${file})`);
    assert.deepEqual(missing, [], `${DOC} lacks environment variables: ${missing.join(", ")}`);
    const extra = [...envRows.keys()].filter((name) => !inSource.has(name));
    assert.deepEqual(extra, [], `${DOC} documents variables the gateway does not read: ${extra.join(", ")}`);
  });

  test("the CLI's epilog names the same variables", () => {
    const cli = readFileSync(join(REPO, "packages/openai-gateway/src/cli.ts"), "utf8");
    const epilog = /Environment \(simple case\): ([A-Z_, ]+)\./.exec(cli);
    assert.ok(epilog, "cli.ts epilog not found");
    assert.deepEqual(epilog[1]!.split(",").map((s) => s.trim()).sort(), [...envRows.keys()].sort());
  });

  test("every default in the doc equals the code's", () => {
    const bare = loadConfig({ env: {} });
    const keyed = loadConfig({ env: { OPENAI_API_KEY: "k" } });
    const expected = new Map<string, unknown>([
      ["HOST", defaults.DEFAULT_HOST],
      ["PORT", defaults.DEFAULT_PORT],
      ["OPENAI_BASE_URL", defaults.DEFAULT_OPENAI_BASE_URL],
      ["LOG_LEVEL", bare.logLevel],
      ["LOG_FORMAT", bare.logFormat],
      ["MCP_MODEL", defaults.DEFAULT_MCP_MODEL],
      ["GATEWAY_DATA_DIR", relative(process.cwd(), bare.dataDir)],
    ]);
    // MCP_MODEL is what `mcp-gateway` runs on when servers are configured and no MCP_MODEL is given.
    const mcpFile = join(tmp, "mcp.json");
    writeFileSync(mcpFile, JSON.stringify({ mcpServers: { s: { command: "x" } } }));
    const withMcp = loadConfig({ env: { OPENAI_API_KEY: "k", MCP_CONFIG: mcpFile } });
    assert.equal(withMcp.aliases.get(defaults.MCP_GATEWAY_MODEL)?.[0]?.model, defaults.DEFAULT_MCP_MODEL);
    assert.equal(bare.server.host, defaults.DEFAULT_HOST);
    assert.equal(bare.server.port, defaults.DEFAULT_PORT);
    assert.equal(keyed.providers[0]!.baseUrl, defaults.DEFAULT_OPENAI_BASE_URL);
    for (const [name, row] of envRows) {
      const stated = statedDefault(row.cells[envDefaultCol] ?? "");
      const want = expected.get(name);
      const at = where(DOC, row.line);
      if (want === undefined) assert.equal(stated, undefined, `${at}: ${name} has no default in the code, the doc says \`${stated}\``);
      else assert.equal(stated, shown(want), `${at}: ${name} defaults to \`${shown(want)}\`, the doc says ${stated ?? "none"}`);
    }
  });

  test("the terminal chat's variables (src/chat-cli) are in docs/chat-api.md's table, and no other", () => {
    const inSource = [...envVarsInSource(join(REPO, "packages/openai-gateway/src/chat-cli"), "")].map(([name]) => name).sort();
    assert.ok(inSource.length >= 2, `expected GATEWAY_URL and GATEWAY_API_KEY, found ${inSource.join(", ")}`);
    const chatDoc = read("docs/chat-api.md");
    const table = tableAfter(chatDoc, /Terminal chat settings/);
    // A flag without a variable (`--model`) has "—" there.
    const names = table.rows.map((r) => codeSpans(r.cells[column(table, "env")] ?? "")[0]).filter((n) => n !== undefined).sort();
    assert.deepEqual(names, inSource);
  });

  test("the root README's environment table agrees on names and defaults", () => {
    const readme = read("README.md");
    const table = tableAfter(readme, /Simple case: environment only/);
    const col = column(table, "default");
    for (const row of table.rows) {
      const name = codeSpans(row.cells[0] ?? "")[0]!;
      const ours = envRows.get(name);
      assert.ok(ours, `README.md:${row.line}: ${name} is not in ${DOC}`);
      assert.equal(statedDefault(row.cells[col] ?? ""), statedDefault(ours.cells[envDefaultCol] ?? ""), `README.md:${row.line}: ${name}'s default differs from ${DOC}`);
    }
  });
});

describe("config file examples", () => {
  // Every YAML or JSON block in the docs that is a gateway config file (it has `providers`) must load.
  const examples = markdownFiles()
    .flatMap((file) => fences(file))
    .filter((f) => ["yaml", "yml", "json"].includes(f.lang))
    .map((f) => ({ ...f, value: f.lang === "json" ? JSON.parse(f.text) : parseYaml(f.text) }))
    .filter((f) => f.value && typeof f.value === "object" && "providers" in f.value);

  test("there are examples to check", () => assert.ok(examples.length >= 2, `found ${examples.length}`));

  for (const ex of examples) {
    test(`${where(ex.file, ex.line)} loads as a gateway config`, () => {
      const path = join(tmp, `example-${ex.line}.${ex.lang === "json" ? "json" : "yaml"}`);
      writeFileSync(path, ex.text);
      // Give every ${NAME} and keyEnv it names a value, as a deployment would.
      const env: Record<string, string> = {};
      for (const m of ex.text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) env[m[1]!] = `value-of-${m[1]}`;
      for (const m of ex.text.matchAll(/keyEnv:\s*"?([A-Z_][A-Z0-9_]*)/g)) env[m[1]!] = `key-of-${m[1]}`;
      const config = loadConfig({ file: path, env });
      assert.ok(config.providers.length > 0);
    });
  }
});

describe("MCP server settings", () => {
  const table = tableAfter(doc, /MCP server settings/);
  const env = column(table, "env");
  const flag = column(table, "flag");
  const required = column(table, "required");
  const dflt = column(table, "default");
  const rows = new Map(table.rows.map((r) => [codeSpans(r.cells[env] ?? "")[0], r]));

  test("every SETTINGS entry has a row with its env, flag, requiredness and default", () => {
    for (const spec of Object.values(SETTINGS)) {
      const row = rows.get(spec.env);
      assert.ok(row, `${DOC} MCP table lacks ${spec.env}`);
      const at = where(DOC, row.line);
      assert.deepEqual(codeSpans(row.cells[flag] ?? ""), [`--${spec.flag}`], `${at}: ${spec.env}'s flag`);
      const hasDefault = "default" in spec;
      assert.equal(statedDefault(row.cells[dflt] ?? ""), hasDefault ? spec.default : undefined, `${at}: ${spec.env}'s default`);
      assert.equal((row.cells[required] ?? "").toLowerCase(), hasDefault || "optional" in spec ? "no" : "yes", `${at}: ${spec.env} required`);
    }
  });

  test("the table has no row SETTINGS lacks", () => {
    const known = new Set<string>(Object.values(SETTINGS).map((s) => s.env));
    const extra = [...rows.keys()].filter((name) => !known.has(name!));
    assert.deepEqual(extra, [], `${DOC} MCP table documents unknown settings`);
  });

  test("the MCP server's README table agrees too", () => {
    const file = "packages/openai-gateway-mcp/README.md";
    const t = tableAfter(read(file), /^## Configuration/);
    const names = t.rows.map((r) => codeSpans(r.cells[column(t, "env")] ?? "")[0]);
    assert.deepEqual(names.sort(), Object.values(SETTINGS).map((s) => s.env).sort(), `${file}: settings table`);
    for (const r of t.rows) {
      const spec = Object.values(SETTINGS).find((s) => s.env === codeSpans(r.cells[column(t, "env")] ?? "")[0])!;
      assert.deepEqual(codeSpans(r.cells[column(t, "flag")] ?? ""), [`--${spec.flag}`], `${where(file, r.line)}: flag`);
      assert.equal(statedDefault(r.cells[column(t, "default")] ?? ""), "default" in spec ? spec.default : undefined, `${where(file, r.line)}: default`);
    }
  });
});
