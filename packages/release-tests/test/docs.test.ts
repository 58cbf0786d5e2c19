/**
 * Every snippet a reader may paste, checked: JSON and YAML blocks parse; MCP client configs start
 * the real package or image with only the settings the MCP server reads; package and image names
 * are ones this repository publishes; relative links lead to files (and headings) that exist.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { describe, test } from "node:test";
import { parseDocument } from "yaml";
import { SETTINGS } from "../../openai-gateway-mcp/src/settings.ts";
import { anchors, fences, links, markdownFiles, prose, read, REPO, where } from "./support/markdown.ts";

const MCP_PACKAGE = "@mcpgw/openai-gateway-mcp";
const MCP_BIN = "openai-gateway-mcp";
const MCP_IMAGE = "mcpgw/openai-gateway-mcp";
const GATEWAY_IMAGE = "mcpgw/openai-gateway";
const MCP_ENV = new Set<string>(Object.values(SETTINGS).map((s) => s.env));

const files = markdownFiles();
const blocks = files.flatMap((file) => fences(file));
const jsonBlocks = blocks.filter((b) => b.lang === "json");
const yamlBlocks = blocks.filter((b) => b.lang === "yaml" || b.lang === "yml");

/** The packages this repository has (published or not), by their package.json names. */
const PACKAGES = new Set(
  readdirSync(join(REPO, "packages"))
    .map((d) => join(REPO, "packages", d, "package.json"))
    .filter((p) => existsSync(p))
    .map((p) => (JSON.parse(readFileSync(p, "utf8")) as { name: string }).name),
);

test("the docs this test reads are there: docs/, the root README, the package READMEs", () => {
  for (const f of ["README.md", "docs/README.md", "docs/spec/README.md", "docs/configuration.md", "packages/openai-gateway-mcp/README.md"]) {
    assert.ok(files.includes(f), `${f} not found among ${files.join(", ")}`);
  }
  assert.ok(files.filter((f) => f.startsWith("docs/clients/")).length >= 8, "expected the client pages in docs/clients/");
  assert.ok(jsonBlocks.length >= 10 && yamlBlocks.length >= 5, `found ${jsonBlocks.length} json and ${yamlBlocks.length} yaml blocks`);
});

describe("every ```json block parses with JSON.parse (no comments, no trailing commas)", () => {
  for (const b of jsonBlocks) {
    test(where(b.file, b.line), () => {
      assert.doesNotThrow(() => JSON.parse(b.text), (e: Error) => `${where(b.file, b.line)}: ${e.message}`);
    });
  }
});

describe("every ```yaml block parses, without errors or warnings", () => {
  for (const b of yamlBlocks) {
    test(where(b.file, b.line), () => {
      const doc = parseDocument(b.text, { prettyErrors: true });
      const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
      assert.deepEqual(problems, [], `${where(b.file, b.line)}: ${problems.join("; ")}`);
    });
  }
});

// ---- MCP client configs ----------------------------------------------------------------------

interface ServerEntry {
  command?: unknown;
  args?: unknown;
  env?: unknown;
  [k: string]: unknown;
}

/** `mcpServers` (Claude Desktop, Cursor, Windsurf) and `servers` (VS Code) maps, wherever they sit. */
function serverMaps(value: unknown, out: Record<string, ServerEntry>[] = []): Record<string, ServerEntry>[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    if ((k === "mcpServers" || k === "servers") && v && typeof v === "object" && !Array.isArray(v)) out.push(v as Record<string, ServerEntry>);
    else serverMaps(v, out);
  }
  return out;
}

/**
 * An MCP server reached over Streamable HTTP: the MCP server's `--transport http` or the gateway's,
 * both at `/mcp` (or `/mcp/{server}`), both asking for a bearer key in the Authorization header.
 */
function httpProblems(entry: ServerEntry): string[] {
  const p: string[] = [];
  if ("type" in entry && entry.type !== "http" && entry.type !== "streamable-http") p.push(`type '${String(entry.type)}' (Streamable HTTP is "http")`);
  let url: URL | undefined;
  try {
    url = new URL(String(entry.url));
  } catch {
    p.push(`url '${String(entry.url)}' is not a URL`);
  }
  if (url && !/^\/mcp(\/[^/]+)?$/.test(url.pathname)) p.push(`url ${url.href} is not an MCP endpoint (/mcp or /mcp/{server})`);
  const headers = entry.headers && typeof entry.headers === "object" ? (entry.headers as Record<string, unknown>) : {};
  const auth = Object.entries(headers).find(([k]) => k.toLowerCase() === "authorization")?.[1];
  if (typeof auth !== "string" || !/^Bearer \S+/.test(auth)) p.push("headers.Authorization must be 'Bearer <key>': both endpoints ask for a key");
  return p;
}

/** `npx -y mcp-remote URL --header "Authorization:Bearer ..."`: the URL an MCP endpoint, the key sent. */
function bridgeProblems(args: string[]): string[] {
  const p: string[] = [];
  if (!args.includes("-y") && !args.includes("--yes")) p.push("npx needs -y, or it waits for a confirmation nobody can give over stdio");
  const at = args.findIndex((a) => a.replace(/@[^@/]+$/, "") === "mcp-remote");
  p.push(...httpProblems({ url: args[at + 1], headers: {} }).filter((x) => !x.startsWith("headers")));
  const header = args[args.indexOf("--header") + 1];
  if (!args.includes("--header") || !/^Authorization:\s*Bearer \S+/.test(header ?? "")) p.push("mcp-remote needs --header \"Authorization:Bearer <key>\"");
  return p;
}

/** What is wrong with one server entry, in words; empty when it is right. */
function problemsOf(name: string, entry: ServerEntry): string[] {
  const p: string[] = [];
  const args = Array.isArray(entry.args) ? (entry.args as unknown[]).map(String) : [];
  const env = entry.env && typeof entry.env === "object" ? (entry.env as Record<string, unknown>) : {};
  if (entry.args !== undefined && !Array.isArray(entry.args)) p.push("args is not a list");
  // Windsurf spells it serverUrl.
  const url = entry.url ?? entry.serverUrl;
  if (typeof url === "string" && entry.command === undefined) return [...p, ...httpProblems({ ...entry, url })];
  // mcp-remote, the bridge from a stdio-only client to an HTTP endpoint: its env is its own.
  if (typeof entry.command === "string" && args.some((a) => a.replace(/@[^@/]+$/, "") === "mcp-remote")) return [...p, ...bridgeProblems(args)];
  if (typeof entry.command !== "string") return [...p, `'${name}' has no command: a stdio server is started as a command, an HTTP one named by its url`];
  if ("type" in entry && entry.type !== "stdio") p.push(`type '${String(entry.type)}' (it is a stdio server)`);
  for (const k of Object.keys(env)) if (!MCP_ENV.has(k)) p.push(`env ${k} is not a setting the MCP server reads (${[...MCP_ENV].join(", ")})`);
  for (const v of Object.values(env)) if (typeof v !== "string") p.push("env values must be strings");

  // A full path (`/opt/homebrew/bin/npx`) or a Windows shim (`npx.cmd`) is the same command.
  const command = entry.command.replace(/^.*[\\/]/, "").replace(/\.(cmd|exe)$/i, "");
  switch (command) {
    case "npx": {
      const pkg = args.find((a) => !a.startsWith("-"));
      if (!pkg || pkg.replace(/@[^@/]+$/, "") !== MCP_PACKAGE) p.push(`npx must run ${MCP_PACKAGE} (got ${pkg})`);
      if (!args.includes("-y") && !args.includes("--yes")) p.push("npx needs -y, or it waits for a confirmation nobody can give over stdio");
      break;
    }
    case MCP_BIN:
      break;
    case "node":
      if (!/openai-gateway-mcp\/(dist\/cli\.js|bin\/openai-gateway-mcp\.js)$/.test(args[0] ?? "")) p.push(`node must run the MCP server's cli (got ${args[0]})`);
      break;
    case "docker": {
      // Docker's MCP Toolkit entry: its MCP Gateway runs the servers of a profile (ours among them).
      if (args[0] === "mcp" && args[1] === "gateway" && args[2] === "run") break;
      if (args[0] !== "run") p.push("docker args must start with run");
      if (!args.some((a) => a === "-i" || a === "--interactive" || /^-[a-z]*i[a-z]*$/.test(a))) p.push("docker run needs -i: stdio is the MCP transport");
      if (args.some((a) => a === "-t" || a === "--tty" || /^-[a-z]*t[a-z]*$/.test(a))) p.push("docker run must not use -t: a TTY mangles the JSON-RPC stream");
      const images = args.filter((a) => /^(docker\.io\/)?mcpgw\//.test(a)).map((a) => a.replace(/^docker\.io\//, "").replace(/[:@].*$/, ""));
      if (images.length !== 1 || images[0] !== MCP_IMAGE) p.push(`docker must run the image ${MCP_IMAGE} (got ${images.join(", ") || "none"})`);
      for (let i = 0; i < args.length; i++) {
        const a = args[i]!;
        const given = a === "-e" || a === "--env" ? args[++i] : /^--env=(.*)$/.exec(a)?.[1];
        if (given === undefined) continue;
        const [varName] = given.split("=");
        if (!MCP_ENV.has(varName!)) p.push(`docker -e ${varName} is not a setting the MCP server reads`);
        if (!given.includes("=") && !(varName! in env)) p.push(`docker -e ${varName} passes the variable on, but env does not set it`);
      }
      break;
    }
    default:
      p.push(`command '${entry.command}' is none of npx, ${MCP_BIN}, node, docker`);
  }
  return p;
}

describe("MCP client configs start the MCP server with settings it reads", () => {
  const configs = jsonBlocks
    .map((b) => ({ b, maps: serverMaps(JSON.parse(b.text) as unknown) }))
    .filter(({ maps }) => maps.length > 0);

  test("there are client configs to check", () => assert.ok(configs.length >= 8, `found ${configs.length}`));

  for (const { b, maps } of configs) {
    test(where(b.file, b.line), () => {
      const entries = maps.flatMap((m) => Object.entries(m));
      assert.ok(entries.length > 0, `${where(b.file, b.line)}: an empty server map`);
      const problems = entries.flatMap(([name, entry]) => problemsOf(name, entry).map((p) => `${name}: ${p}`));
      assert.deepEqual(problems, [], `${where(b.file, b.line)}:\n  ${problems.join("\n  ")}`);
    });
  }

  test("the checker itself rejects what it should", () => {
    assert.deepEqual(problemsOf("ok", { command: "npx", args: ["-y", MCP_PACKAGE], env: { GATEWAY_URL: "u" } }), []);
    assert.deepEqual(problemsOf("ok", { command: "npx", args: ["-y", `${MCP_PACKAGE}@0.1.0`] }), []);
    assert.equal(problemsOf("wrong env", { command: "npx", args: ["-y", MCP_PACKAGE], env: { OPENAI_API_KEY: "x" } }).length, 1);
    assert.equal(problemsOf("gateway package", { command: "npx", args: ["-y", "@mcpgw/openai-gateway"] }).length, 1);
    assert.equal(problemsOf("no -y", { command: "npx", args: [MCP_PACKAGE] }).length, 1);
    assert.deepEqual(problemsOf("ok", { command: "docker", args: ["run", "--rm", "-i", "-e", "GATEWAY_URL", MCP_IMAGE], env: { GATEWAY_URL: "u" } }), []);
    assert.equal(problemsOf("tty", { command: "docker", args: ["run", "-it", MCP_IMAGE] }).length, 1);
    assert.equal(problemsOf("gateway image", { command: "docker", args: ["run", "-i", GATEWAY_IMAGE] }).length, 1);
    assert.equal(problemsOf("unset -e", { command: "docker", args: ["run", "-i", "-e", "GATEWAY_API_KEY", MCP_IMAGE] }).length, 1);
    assert.equal(problemsOf("http without a key", { url: "http://127.0.0.1:8080/mcp" }).length, 1);
    assert.deepEqual(problemsOf("http", { type: "http", url: "http://127.0.0.1:8080/mcp", headers: { Authorization: "Bearer k" } }), []);
    assert.equal(problemsOf("not /mcp", { type: "http", url: "http://127.0.0.1:8080/v1", headers: { Authorization: "Bearer k" } }).length, 1);
    assert.equal(problemsOf("sse", { type: "sse", url: "http://127.0.0.1:8080/mcp", headers: { Authorization: "Bearer k" } }).length, 1);
    assert.deepEqual(problemsOf("windsurf", { serverUrl: "http://127.0.0.1:8080/mcp", headers: { Authorization: "Bearer k" } }), []);
    assert.deepEqual(problemsOf("bridge", { command: "npx", args: ["-y", "mcp-remote", "http://127.0.0.1:8080/mcp", "--header", "Authorization:Bearer ${K}"], env: { K: "k" } }), []);
    assert.equal(problemsOf("bridge without a key", { command: "npx", args: ["-y", "mcp-remote", "http://127.0.0.1:8080/mcp"] }).length, 1);
    assert.deepEqual(problemsOf("full path", { command: "/opt/homebrew/bin/npx", args: ["-y", MCP_PACKAGE] }), []);
    assert.deepEqual(problemsOf("toolkit", { command: "docker", args: ["mcp", "gateway", "run", "--profile", "p"] }), []);
    assert.equal(problemsOf("other", { command: "uvx", args: ["something"] }).length, 1);
  });
});

describe("compose files run the MCP image with settings it reads", () => {
  const composes = yamlBlocks
    .map((b) => ({ b, value: parseDocument(b.text).toJS() as { services?: Record<string, { image?: string; environment?: unknown }> } }))
    .filter(({ value }) => value && typeof value === "object" && value.services);

  for (const { b, value } of composes) {
    const mcp = Object.entries(value.services!).filter(([, s]) => s?.image?.replace(/[:@].*$/, "") === MCP_IMAGE);
    if (mcp.length === 0) continue;
    test(where(b.file, b.line), () => {
      for (const [name, s] of mcp) {
        const env = Array.isArray(s.environment) ? (s.environment as string[]).map((e) => e.split("=")[0]!) : Object.keys(s.environment ?? {});
        for (const k of env) assert.ok(MCP_ENV.has(k), `${where(b.file, b.line)}: service ${name} sets ${k}, which the MCP server does not read`);
      }
    });
  }
});

describe("Docker MCP server entries pass only settings the MCP server reads", () => {
  // The Toolkit's server entry format: `env[].name` and `secrets[].env` become the container's environment.
  const entries = yamlBlocks
    .map((b) => ({ b, value: parseDocument(b.text).toJS() as Record<string, unknown> | null }))
    .filter(({ value }) => typeof value?.image === "string" && value.image.replace(/[:@].*$/, "") === MCP_IMAGE);

  for (const { b, value } of entries) {
    test(where(b.file, b.line), () => {
      const names = [
        ...((value!.env as { name: string }[] | undefined) ?? []).map((e) => e.name),
        ...((value!.secrets as { env: string }[] | undefined) ?? []).map((e) => e.env),
      ];
      assert.ok(names.includes("GATEWAY_URL") && names.includes("GATEWAY_API_KEY"), `${where(b.file, b.line)}: sets neither GATEWAY_URL nor GATEWAY_API_KEY`);
      for (const n of names) assert.ok(MCP_ENV.has(n), `${where(b.file, b.line)}: ${n} is not a setting the MCP server reads`);
    });
  }
});

describe("package and image names", () => {
  const images = new Set([GATEWAY_IMAGE, MCP_IMAGE]);
  for (const file of files) {
    test(file, () => {
      const bad: string[] = [];
      read(file)
        .split("\n")
        .forEach((line, i) => {
          for (const m of line.matchAll(/(?<![\w./-])(@?mcpgw\/[\w.-]*[\w])/g)) {
            const name = m[1]!;
            if (!(name.startsWith("@") ? PACKAGES.has(name) : images.has(name))) bad.push(`${where(file, i + 1)}: ${name}`);
          }
        });
      assert.deepEqual(bad, [], `names that are neither a package (${[...PACKAGES].join(", ")}) nor an image (${[...images].join(", ")})`);
    });
  }
});

describe("relative links lead to files and headings that exist", () => {
  for (const file of files) {
    test(file, () => {
      const text = read(file);
      const broken: string[] = [];
      for (const { line, target } of links(text)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
        const [path = "", anchor] = target.split("#");
        const resolved = path === "" ? file : normalize(join(dirname(file), decodeURIComponent(path)));
        const at = `${where(file, line)}: ${target}`;
        if (resolved.startsWith("..") || !existsSync(join(REPO, resolved))) {
          broken.push(`${at} (no such file)`);
          continue;
        }
        if (anchor && resolved.endsWith(".md") && statSync(join(REPO, resolved)).isFile() && !anchors(read(resolved)).has(anchor.toLowerCase())) {
          broken.push(`${at} (no heading with that anchor in ${resolved})`);
        }
      }
      assert.deepEqual(broken, [], `broken links:\n  ${broken.join("\n  ")}`);
    });
  }

  test("the link reader finds links, anchors and skips code", () => {
    const sample = "# A `b` title\n\n[x](./y.md#a-b-title) and `[no](z.md)`\n\n```md\n[no](z.md)\n```\n[ref]: ../r.md\n";
    assert.deepEqual(links(sample).map((l) => l.target), ["./y.md#a-b-title", "../r.md"]);
    assert.ok(anchors(sample).has("a-b-title"));
    assert.equal(prose(sample).includes("```"), false);
  });
});

