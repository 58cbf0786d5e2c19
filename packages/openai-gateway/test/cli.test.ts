/**
 * The bin as a user meets it: flags, config files and environment that are wrong (exit 1 with a
 * message naming what to fix, never a stack trace), the safety rule about client keys, the offline
 * demo, YAML configs with hashed keys, and `npx openai-gateway` from the repository root.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { configFor, runGateway, startGateway, type GatewayProcess, runToExit } from "@mcpgw/test-support";

const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEMO_MODEL = "mcpgw-offline-demo";
const UPSTREAM_KEY = "upstream-secret-0123456789";
const TIMEOUT = { timeout: 20_000 };

let dir: string;
let upstream: FakeUpstream;
const running: GatewayProcess[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "gw-cli-test-"));
  upstream = await startFakeUpstream({ apiKey: UPSTREAM_KEY });
});
after(async () => {
  await Promise.all(running.map((g) => g.stop()));
  await upstream?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(opts: Parameters<typeof startGateway>[0]): Promise<GatewayProcess> {
  const gateway = await startGateway(opts);
  running.push(gateway);
  return gateway;
}

let fileCount = 0;
function writeConfig(content: string | object, ext = ".json"): string {
  const file = join(dir, `config-${++fileCount}${ext}`);
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return file;
}

function assertNoStackTrace(text: string): void {
  assert.doesNotMatch(text, /\n\s*at\s|\bat\s+\S+\s+\(|\.(?:ts|js|mjs|cjs):\d+:\d+|node_modules/, `stack trace in:\n${text}`);
}

/** Runs the bin, expects exit 1 and one short message on stderr mentioning every `names`. */
async function expectStartupError(args: string[], env: Record<string, string>, names: (string | RegExp)[]): Promise<string> {
  // --port 0 unless the test is about the port, so a gateway that wrongly starts takes no fixed port.
  const withPort = args.includes("--port") || "PORT" in env ? args : [...args, "--port", "0"];
  const { code, stdout, stderr } = await runGateway(withPort, env, 8_000);
  assert.equal(code, 1, `exit code ${code}\nstdout: ${stdout}\nstderr: ${stderr}`);
  assert.match(stderr, /^openai-gateway: /);
  for (const name of names) {
    if (typeof name === "string") assert.ok(stderr.includes(name), `stderr does not name ${name}:\n${stderr}`);
    else assert.match(stderr, name);
  }
  assertNoStackTrace(stderr);
  assert.ok(!stdout.includes("listening on"), stdout);
  return stderr;
}

// Each of these runs the bin to its exit on its own files and env, so two at a time is safe.
describe("runs that exit", { concurrency: 2 }, () => {
  test("--help prints usage and exits 0", TIMEOUT, async () => {
    const { code, stdout, stderr } = await runGateway(["--help"]);
    assert.equal(code, 0, stderr);
    for (const flag of ["--config", "--host", "--port", "--help", "--version"]) assert.ok(stdout.includes(flag), `help lacks ${flag}`);
    assert.match(stdout, /openai-gateway/);
    assert.ok(stdout.includes(DEMO_MODEL), "help tells about the offline demo model");
    assert.match(stdout, /GATEWAY_API_KEYS/);
    assert.equal(stderr, "");
  });

  test("--version prints package.json's version and exits 0", TIMEOUT, async () => {
    const { code, stdout, stderr } = await runGateway(["--version"]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), version);
  });

  test("an unknown flag exits 1 and names it", TIMEOUT, async () => {
    const { code, stderr } = await runGateway(["--colour", "blue", "--port", "0"]);
    assert.equal(code, 1);
    assert.match(stderr, /colour/);
    assertNoStackTrace(stderr);
  });

  test("a provider baseUrl that is not a URL: exit 1 naming providers.fake.baseUrl", TIMEOUT, async () => {
    const file = writeConfig(configFor("not a url"));
    await expectStartupError(["--config", file], { UPSTREAM_KEY }, ["providers.fake.baseUrl", file]);
  });

  test("an alias naming an unknown provider: exit 1 naming the alias field and the provider", TIMEOUT, async () => {
    const file = writeConfig(configFor(upstream.url, { models: { fast: "nope/gpt-4o-mini" } }));
    await expectStartupError(["--config", file], { UPSTREAM_KEY }, ["models.fast[0].provider", "'nope'"]);
    const objectForm = writeConfig(configFor(upstream.url, { models: { fast: ["fake/gpt-4o", { provider: "other", model: "x" }] } }));
    await expectStartupError(["--config", objectForm], { UPSTREAM_KEY }, ["models.fast[1].provider", "'other'"]);
  });

  test("an unknown top-level field: exit 1 naming it", TIMEOUT, async () => {
    const file = writeConfig(configFor(upstream.url, { colour: "blue" }));
    await expectStartupError(["--config", file], { UPSTREAM_KEY }, ['"colour"']);
    const nested = writeConfig(configFor(upstream.url, { server: { port: 0, hots: "127.0.0.1" } }));
    await expectStartupError(["--config", nested], { UPSTREAM_KEY }, ["server", '"hots"']);
  });

  test("a ${VAR} reference to an unset variable: exit 1 naming the variable and the field", TIMEOUT, async () => {
    const file = writeConfig(configFor(upstream.url));
    // UPSTREAM_KEY deliberately not set.
    await expectStartupError(["--config", file], {}, ["UPSTREAM_KEY", "providers.fake.apiKey"]);
    // An empty value counts as unset too.
    await expectStartupError(["--config", file], { UPSTREAM_KEY: "" }, ["UPSTREAM_KEY"]);
  });

  test("a config file that is missing or not parseable: exit 1 saying so", TIMEOUT, async () => {
    const missing = join(dir, "does-not-exist.yaml");
    await expectStartupError(["--config", missing], {}, [missing, "ENOENT"]);
    const broken = writeConfig("providers: [unclosed\n  models: {", ".yaml");
    await expectStartupError(["--config", broken], {}, ["not valid YAML"]);
    const brokenJson = writeConfig('{"providers": ', ".json");
    await expectStartupError(["--config", brokenJson], {}, ["not valid JSON"]);
  });

  test("a client key entry with neither keyHash nor keyEnv, or a bad hash: exit 1 naming clients[i]", TIMEOUT, async () => {
    const neither = writeConfig(configFor(upstream.url, { clients: [{ name: "a" }] }));
    await expectStartupError(["--config", neither], { UPSTREAM_KEY }, ["clients.0", "keyHash or keyEnv"]);
    const badHash = writeConfig(configFor(upstream.url, { clients: [{ name: "a", keyHash: "abc123" }] }));
    await expectStartupError(["--config", badHash], { UPSTREAM_KEY }, ["clients.0.keyHash"]);
    const unsetEnv = writeConfig(configFor(upstream.url, { clients: [{ name: "a", keyEnv: "TEAM_KEY" }] }));
    await expectStartupError(["--config", unsetEnv], { UPSTREAM_KEY }, ["clients[0].keyEnv", "TEAM_KEY"]);
  });

  test("no client keys and a non-loopback host: refuses to start", TIMEOUT, async () => {
    const stderr = await expectStartupError(["--host", "0.0.0.0"], {}, ["no client keys", "0.0.0.0", "GATEWAY_API_KEYS"]);
    assert.ok(!stderr.includes("failed to start"), "a refusal, not a crash");
    await expectStartupError([], { HOST: "0.0.0.0" }, ["no client keys", "0.0.0.0"]);
  });

  test("PORT=abc: exit 1 naming PORT; --port 70000: exit 1 naming --port", TIMEOUT, async () => {
    await expectStartupError([], { PORT: "abc" }, ["PORT", "'abc'"]);
    await expectStartupError(["--port", "70000"], {}, ["--port", "70000"]);
  });

  test("LOG_LEVEL=verbose: exit 1 naming LOG_LEVEL and the accepted levels", TIMEOUT, async () => {
    await expectStartupError([], { LOG_LEVEL: "verbose" }, ["LOG_LEVEL", "'verbose'", "debug"]);
  });

  test("provider headers the HTTP client would refuse, or a second credential: exit 1 naming the header", TIMEOUT, async () => {
    const withHeaders = (headers: Record<string, string>, extra: object = {}) =>
      writeConfig({ providers: { fake: { type: "openai", baseUrl: upstream.url, apiKey: "${UPSTREAM_KEY}", headers, ...extra } }, passthrough: "fake" });
    for (const name of ["transfer-encoding", "Keep-Alive", "connection", "content-length", "expect"]) {
      await expectStartupError(["--config", withHeaders({ [name]: "x" })], { UPSTREAM_KEY }, [`providers.fake.headers.${name}`]);
    }
    await expectStartupError(["--config", withHeaders({ "bad name": "x" })], { UPSTREAM_KEY }, ["providers.fake.headers.bad name", "not a valid header name"]);
    await expectStartupError(["--config", withHeaders({ "x-note": "line\nbreak" })], { UPSTREAM_KEY }, ["providers.fake.headers.x-note"]);
    // Two credentials: apiKey already sends Authorization (openai) or api-key (azure).
    await expectStartupError(["--config", withHeaders({ Authorization: "Bearer other" })], { UPSTREAM_KEY }, ["providers.fake.headers.Authorization", "apiKey"]);
    await expectStartupError(["--config", withHeaders({ "api-key": "other" }, { type: "azure" })], { UPSTREAM_KEY }, ["providers.fake.headers.api-key", "apiKey"]);
    // Without an apiKey, an Authorization header is how a keyless setup sends its credential: fine.
    const gw = await start({ config: { providers: { fake: { type: "openai", baseUrl: upstream.url, headers: { Authorization: `Bearer ${UPSTREAM_KEY}` } } }, passthrough: "fake" } });
    const client = new OpenAI({ apiKey: "unused", baseURL: gw.baseURL, maxRetries: 0 });
    assert.equal((await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] })).object, "chat.completion");
  });

  test("OPENAI_BASE_URL that is not a URL: exit 1 naming it", TIMEOUT, async () => {
    await expectStartupError([], { OPENAI_API_KEY: "sk-x", OPENAI_BASE_URL: "localhost:11434" }, ["OPENAI_BASE_URL"]);
  });
});

test("no client keys on loopback: starts, warns loudly, and serves without a key", TIMEOUT, async () => {
  const gateway = await start({ env: { OPENAI_BASE_URL: upstream.url, OPENAI_API_KEY: UPSTREAM_KEY } });
  const warning = gateway.lines.find((l) => l.includes("NO CLIENT KEYS CONFIGURED"));
  assert.ok(warning, gateway.lines.join("\n"));
  assert.equal(JSON.parse(warning).level, 40, "logged as a warning");
  assert.ok(!gateway.lines.some((l) => l.includes("OFFLINE DEMO")), "an upstream is configured");
  const res = await fetch(`${gateway.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, "echo: hi");
});

test("no upstream configured at all: the offline demo model answers through the SDK", TIMEOUT, async () => {
  const gateway = await start({ env: {} });
  assert.ok(gateway.lines.some((l) => l.includes("OFFLINE DEMO") && l.includes(DEMO_MODEL)), gateway.lines.join("\n"));
  assert.ok(gateway.lines.some((l) => l.includes("NO CLIENT KEYS CONFIGURED")));
  const client = new OpenAI({ apiKey: "any-key-works-without-client-keys", baseURL: gateway.baseURL, maxRetries: 0, timeout: 10_000 });

  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), [DEMO_MODEL]);

  const messages = [{ role: "user" as const, content: "ping from the cli test" }];
  const done = await client.chat.completions.create({ model: DEMO_MODEL, messages });
  const text = done.choices[0]!.message.content ?? "";
  assert.match(text, /offline demo/i);
  assert.ok(text.includes("ping from the cli test"), text);
  assert.equal(done.model, DEMO_MODEL);
  assert.ok(done.usage && done.usage.completion_tokens > 0 && done.usage.total_tokens === done.usage.prompt_tokens + done.usage.completion_tokens);

  // Streaming, usage asked for: arrives as a last chunk with no choices.
  let streamed = "";
  let usage: OpenAI.CompletionUsage | null | undefined;
  let chunks = 0;
  for await (const chunk of await client.chat.completions.create({ model: DEMO_MODEL, messages, stream: true, stream_options: { include_usage: true } })) {
    chunks++;
    streamed += chunk.choices[0]?.delta.content ?? "";
    if (chunk.usage) usage = chunk.usage;
  }
  assert.equal(streamed, text, "the stream says what the plain answer said");
  assert.ok(chunks > 3, `streamed in pieces (${chunks} chunks)`);
  assert.deepEqual(usage, done.usage);

  // Streaming, usage not asked for: none arrives.
  let sawUsage = false;
  for await (const chunk of await client.chat.completions.create({ model: DEMO_MODEL, messages, stream: true })) {
    if (chunk.usage) sawUsage = true;
    assert.ok(chunk.choices.length > 0, "no usage-only chunk");
  }
  assert.equal(sawUsage, false);

  // Another model name does not exist here.
  await assert.rejects(client.chat.completions.create({ model: "gpt-4o", messages }), OpenAI.NotFoundError);
});

test("a YAML config with a keyHash client and a keyEnv client: both keys work, others do not", TIMEOUT, async () => {
  const yamlKey = "yaml-client-plain-key";
  const teamKey = "team-key-from-env";
  const hash = createHash("sha256").update(yamlKey).digest("hex");
  const file = writeConfig(
    [
      "# written by cli.test.ts",
      "providers:",
      "  fake:",
      `    baseUrl: ${upstream.url}`,
      "    apiKey: ${UPSTREAM_KEY}",
      "models:",
      "  fast: fake/gpt-4o-mini",
      "  embed:",
      "    provider: fake",
      "    model: text-embedding-3-small",
      "clients:",
      "  - name: yaml-client",
      `    keyHash: ${hash}`,
      "    models: [fast]",
      "  - name: team",
      "    keyEnv: TEAM_KEY",
      "",
    ].join("\n"),
    ".yaml",
  );
  const gateway = await start({ args: ["--config", file], env: { UPSTREAM_KEY, TEAM_KEY: teamKey } });
  assert.ok(!gateway.lines.some((l) => l.includes("NO CLIENT KEYS")), "keys are configured");
  const startup = JSON.parse(gateway.lines.find((l) => l.includes("listening on"))!) as { clients: string[]; models: string[] };
  assert.deepEqual(startup.clients, ["yaml-client", "team"]);
  assert.deepEqual(startup.models, ["fast", "embed"]);
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: gateway.baseURL, maxRetries: 0, timeout: 10_000 });
  const messages = [{ role: "user" as const, content: "yaml" }];

  const done = await client(yamlKey).chat.completions.create({ model: "fast", messages });
  assert.equal(done.choices[0]!.message.content, "echo: yaml");
  const viaTeam = await client(teamKey).embeddings.create({ model: "embed", input: "x" });
  assert.equal(viaTeam.data.length, 1);
  // The yaml client is limited to "fast"; the team key is not.
  await assert.rejects(client(yamlKey).embeddings.create({ model: "embed", input: "x" }), OpenAI.NotFoundError);
  // The hash itself is not a key, and nor is anything else.
  await assert.rejects(client(hash).chat.completions.create({ model: "fast", messages }), OpenAI.AuthenticationError);
  await assert.rejects(client(`${yamlKey}x`).chat.completions.create({ model: "fast", messages }), OpenAI.AuthenticationError);
  // The upstream saw its own key, never a client's.
  assert.ok(upstream.requests.length >= 2);
  for (const r of upstream.requests) assert.equal(r.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
});

test("a keyHash with the sha256: prefix and upper-case hex works too", TIMEOUT, async () => {
  const key = "prefixed-key";
  const hash = "sha256:" + createHash("sha256").update(key).digest("hex").toUpperCase();
  const file = writeConfig(configFor(upstream.url, { clients: [{ name: "prefixed", keyHash: hash }] }), ".yml");
  const gateway = await start({ args: ["--config", file], env: { UPSTREAM_KEY } });
  const client = new OpenAI({ apiKey: key, baseURL: gateway.baseURL, maxRetries: 0, timeout: 10_000 });
  const done = await client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "p" }] });
  assert.equal(done.choices[0]!.message.content, "echo: p");
});

test("`npx openai-gateway --version` from the repository root", TIMEOUT, async () => {
  const { code, stdout, stderr } = await runToExit(
    "npx",
    ["openai-gateway", "--version"],
    {
      cwd: REPO_ROOT,
      env: {
        PATH: `${join(REPO_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}`,
        HOME: process.env.HOME ?? tmpdir(),
        // Never fetch from the registry: the bin must come from this workspace.
        npm_config_offline: "true",
        npm_config_yes: "false",
        npm_config_update_notifier: "false",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
    15_000,
    "npx openai-gateway --version",
  );
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), version);
});
