/**
 * The Docker MCP catalog entry (packages/openai-gateway-mcp/server.yaml) against the rules
 * docker/mcp-registry checks (cmd/validate: name, title, secret names, `{{<name>.<param>}}`
 * placeholders) and against this repository: every variable it sets is one the server reads, the
 * ones the server cannot work without are set, the Dockerfile has the stage it builds, and the
 * image is the one the README runs.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { z } from "zod";
import { SETTINGS } from "@mcpgw/openai-gateway-mcp";

const REPO_ROOT = new URL("../../../", import.meta.url);
const MCP_DIR = new URL("packages/openai-gateway-mcp/", REPO_ROOT);
const ENTRY_FILE = new URL("server.yaml", MCP_DIR);
const README = readFileSync(new URL("README.md", MCP_DIR), "utf8");

/** The categories the registry's `task wizard` offers. */
const CATEGORIES = ["ai", "data-visualization", "database", "devops", "ecommerce", "finance", "games", "communication", "monitoring", "productivity", "search"];
const slug = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const envName = /^[A-Z][A-Z0-9_]*$/;
const nonEmpty = z.string().trim().min(1);

const entrySchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/, "lowercase letters, digits and hyphens only"),
  image: z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*\/[a-z0-9]+(?:[._-][a-z0-9]+)*$/, "namespace/name, no tag"),
  type: z.literal("server"),
  meta: z.object({
    category: z.enum(CATEGORIES),
    tags: z.array(z.string().regex(slug)).min(1),
  }),
  about: z.object({
    title: nonEmpty
      .refine((t) => !/MCP|Server/.test(t), "must not contain 'MCP' or 'Server'")
      .refine((t) => t.split(/\s+/).every((w) => w === "and" || w === "for" || /^\P{Ll}/u.test(w)), "every word capitalized"),
    description: nonEmpty,
    icon: z.url({ protocol: /^https$/ }).optional(),
  }),
  source: z.object({
    project: z.url({ protocol: /^https$/, hostname: /^github\.com$/ }).regex(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/, "https://github.com/OWNER/REPO"),
    // Required by the registry's CI; added when the entry is copied there (see the file's header).
    commit: z.string().regex(/^[a-f0-9]{40}$/).optional(),
    branch: nonEmpty.optional(),
    directory: nonEmpty.optional(),
    dockerfile: nonEmpty.optional(),
    build_target: nonEmpty.optional(),
  }),
  config: z.object({
    description: nonEmpty,
    secrets: z
      .array(
        z.object({
          name: z.string().regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9._-]+$/, "prefix.name"),
          env: z.string().regex(envName),
          example: nonEmpty,
        }),
      )
      .min(1),
    env: z.array(z.object({ name: z.string().regex(envName), example: z.union([nonEmpty, z.number()]), value: nonEmpty })).min(1),
    parameters: z.object({
      type: z.literal("object"),
      properties: z.record(z.string(), z.object({ type: z.enum(["string", "number", "integer", "boolean"]), description: z.string().optional() })),
      required: z.array(z.string()).optional(),
    }),
  }),
});

type Entry = z.infer<typeof entrySchema>;

function loadEntry(): Entry {
  const result = entrySchema.safeParse(parse(readFileSync(ENTRY_FILE, "utf8")));
  if (!result.success) assert.fail(`server.yaml does not match the registry's shape:\n${z.prettifyError(result.error)}`);
  return result.data;
}

/** `{{server.param}}` placeholders in a value. */
const placeholders = (value: string) => [...value.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1]!);

const serverEnv = Object.values(SETTINGS).map((s) => s.env as string);
/** Settings without a default: the server answers every tool call with an error until they are set. */
const requiredEnv = Object.values(SETTINGS)
  .filter((s) => !("default" in s) && !("optional" in s))
  .map((s) => s.env as string);

describe("the Docker MCP catalog entry (packages/openai-gateway-mcp/server.yaml)", () => {
  test("has every field docker/mcp-registry requires, in its shape", () => {
    const entry = loadEntry();
    assert.equal(entry.name, "openai-gateway-mcp");
  });

  test("sets GATEWAY_API_KEY as a secret, GATEWAY_URL and DEFAULT_MODEL as env", () => {
    const { config } = loadEntry();
    assert.ok(config.secrets.some((s) => s.env === "GATEWAY_API_KEY"), "GATEWAY_API_KEY is not a secret");
    const env = config.env.map((e) => e.name);
    for (const name of ["GATEWAY_URL", "DEFAULT_MODEL"]) assert.ok(env.includes(name), `${name} is not in config.env`);
    assert.ok(!env.includes("GATEWAY_API_KEY"), "the key belongs in secrets, not in plain env");
  });

  test("every variable it sets is one the server reads, and every required one is set", () => {
    const { config } = loadEntry();
    const set = [...config.secrets.map((s) => s.env), ...config.env.map((e) => e.name)];
    assert.deepEqual(set.filter((name) => !serverEnv.includes(name)), [], `the server reads only ${serverEnv.join(", ")}`);
    assert.deepEqual(requiredEnv.filter((name) => !set.includes(name)), [], "settings without a default that the entry leaves unset");
    assert.equal(new Set(set).size, set.length, `a variable is set twice: ${set.join(", ")}`);
  });

  test("every {{placeholder}} is <name>.<declared parameter>, and every parameter is used", () => {
    const { name, config } = loadEntry();
    const declared = Object.keys(config.parameters.properties);
    const used = new Set<string>();
    for (const e of config.env) {
      for (const p of placeholders(e.value)) {
        // cmd/validate rejects a placeholder that does not start with the entry's own name.
        assert.ok(p.startsWith(`${name}.`), `${e.name}: {{${p}}} does not start with '${name}.'`);
        const param = p.slice(name.length + 1);
        assert.ok(declared.includes(param), `${e.name}: {{${p}}} names no property of config.parameters (${declared.join(", ")})`);
        used.add(param);
      }
    }
    assert.deepEqual(declared.filter((p) => !used.has(p)), [], "parameters no env value uses");
    for (const r of config.parameters.required ?? []) assert.ok(declared.includes(r), `required parameter ${r} is not declared`);
    const urlParam = placeholders(config.env.find((e) => e.name === "GATEWAY_URL")!.value)[0]?.slice(name.length + 1);
    assert.ok(urlParam && config.parameters.required?.includes(urlParam), "the gateway URL parameter must be required");
  });

  test("secret names are <name>.<something>", () => {
    const { name, config } = loadEntry();
    for (const s of config.secrets) assert.ok(s.name.startsWith(`${name}.`), `secret ${s.name} is not under '${name}.'`);
  });

  test("source.dockerfile exists and has the stage source.build_target names", () => {
    const { source } = loadEntry();
    const file = new URL(`${source.directory ?? "."}/${source.dockerfile ?? "Dockerfile"}`, REPO_ROOT);
    assert.ok(existsSync(file), `${file.pathname} does not exist`);
    const stages = [...readFileSync(file, "utf8").matchAll(/^FROM\s+\S+\s+AS\s+(\S+)/gim)].map((m) => m[1]!.toLowerCase());
    assert.ok(source.build_target, "the Dockerfile builds more than one image: name the MCP stage in source.build_target");
    assert.ok(stages.includes(source.build_target), `no stage '${source.build_target}' in ${file.pathname} (stages: ${stages.join(", ")})`);
  });

  test("the image is the one the README's docker examples run", () => {
    const { image } = loadEntry();
    const dockerBlocks = [...README.matchAll(/```\w*\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /\bdocker\b/.test(b));
    assert.ok(dockerBlocks.length > 0, "the README has no docker example");
    // namespace/name[:tag] tokens; `@mcpgw/...` npm names and URLs do not match.
    const refs = dockerBlocks.flatMap((b) => [...b.matchAll(/(?<![@\w/.:-])([a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*)(?::[\w.-]+)?(?![\w/.-])/g)].map((m) => m[1]!));
    assert.ok(refs.length > 0, "no image named in the README's docker examples");
    assert.deepEqual([...new Set(refs)], [image]);
  });
});
