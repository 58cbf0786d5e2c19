/**
 * The MCP Inspector CLI (a real, independent MCP client) against the built bin, the way a user
 * checks a server by hand: list the tools, call them against a real gateway (its offline demo
 * model), and see a failing call reported with the Inspector's exit code 5.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startGateway, startMcpHttp, type GatewayProcess, type McpHttpProcess, runToExit, type RunResult, MCP_CLI, MCP_PACKAGE_DIR } from "@mcpgw/test-support";

const CLIENT_KEY = "inspector-client-key-5e0c";
const DEMO_MODEL = "mcpgw-offline-demo";
// The Inspector's cold start (npx resolution, its own bundle) takes a few seconds on a slow machine.
const T = { timeout: 60_000 };
const RUN_TIMEOUT_MS = 45_000;

let gateway: GatewayProcess;

before(async () => {
  // No upstream configured: the gateway serves its offline demo model.
  gateway = await startGateway({ env: { GATEWAY_API_KEYS: CLIENT_KEY } });
});
after(async () => {
  await gateway?.stop();
});

/** `npx @modelcontextprotocol/inspector --cli [-e K=V]... node dist/cli.js ARGS`, offline. */
function inspector(env: Record<string, string>, args: string[]): Promise<RunResult> {
  const envArgs = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
  return runToExit(
    "npx",
    ["@modelcontextprotocol/inspector", "--cli", ...envArgs, process.execPath, MCP_CLI, ...args],
    {
      cwd: MCP_PACKAGE_DIR,
      env: { PATH: `${MCP_PACKAGE_DIR}../../node_modules/.bin:${process.env.PATH ?? ""}`, npm_config_offline: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    },
    RUN_TIMEOUT_MS,
    `inspector ${args.join(" ")}`,
  );
}

const configured = (key = CLIENT_KEY) => ({ GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: key });

function parseOut(run: RunResult): any {
  try {
    return JSON.parse(run.stdout);
  } catch {
    assert.fail(`inspector stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

describe("MCP Inspector CLI", () => {
  test("tools/list: both tools with their annotations, and no schema the Inspector calls an error", T, async () => {
    // --strict: the Inspector exits 6 on an error-severity schema portability problem.
    const run = await inspector(configured(), ["--method", "tools/list", "--strict"]);
    assert.equal(run.code, 0, run.stderr);
    const { tools } = parseOut(run);
    assert.deepEqual(tools.map((t: { name: string }) => t.name).sort(), ["chat_completion", "list_models"]);
    const byName = Object.fromEntries(tools.map((t: { name: string }) => [t.name, t]));
    assert.equal(byName.chat_completion.annotations.readOnlyHint, true);
    assert.equal(byName.list_models.annotations.idempotentHint, true);
    assert.ok(byName.chat_completion.outputSchema && byName.list_models.outputSchema);
  });

  test("tools/list works unconfigured (no GATEWAY_URL, no GATEWAY_API_KEY)", T, async () => {
    const run = await inspector({}, ["--method", "tools/list"]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(parseOut(run).tools.length, 2);
  });

  test("tools/call list_models against a real gateway: exit 0 with the demo model", T, async () => {
    const run = await inspector(configured(), ["--method", "tools/call", "--tool-name", "list_models"]);
    assert.equal(run.code, 0, run.stderr);
    const out = parseOut(run);
    assert.equal(out.isError, undefined);
    assert.deepEqual(out.structuredContent.models.map((m: { id: string }) => m.id), [DEMO_MODEL]);
    assert.match(out.content[0].text, new RegExp(`^${DEMO_MODEL}\\b`));
  });

  test("tools/call chat_completion with --tool-arg: exit 0 with the demo model's answer", T, async () => {
    const run = await inspector(configured(), [
      "--method", "tools/call", "--tool-name", "chat_completion",
      "--tool-arg", "prompt=hello from the inspector", `model=${DEMO_MODEL}`,
    ]);
    assert.equal(run.code, 0, run.stderr);
    const out = parseOut(run);
    assert.equal(out.structuredContent.model, DEMO_MODEL);
    assert.match(out.content[0].text, /hello from the inspector/);
    assert.equal(out.content[0].text, out.structuredContent.content);
  });

  test("a call that fails (wrong GATEWAY_API_KEY): exit 5, with the reason and without the key", T, async () => {
    const wrongKey = "wrong-inspector-key-77aa";
    const run = await inspector(configured(wrongKey), ["--method", "tools/call", "--tool-name", "list_models"]);
    assert.equal(run.code, 5, `${run.stdout}\n${run.stderr}`);
    const out = parseOut(run);
    assert.equal(out.isError, true);
    assert.match(out.content[0].text, /GATEWAY_API_KEY/);
    assert.match(out.content[0].text, /401/);
    assert.ok(!run.stdout.includes(wrongKey) && !run.stderr.includes(wrongKey), "the key is never printed");
  });
});

describe("MCP Inspector CLI over Streamable HTTP (--transport http, a bearer header)", () => {
  const KEY = "inspector-http-mcp-key-0c41";
  let server: McpHttpProcess;
  before(async () => {
    server = await startMcpHttp({ env: { ...configured(), DEFAULT_MODEL: DEMO_MODEL, MCP_API_KEYS: KEY } });
  });
  after(async () => {
    await server?.stop();
  });

  /** The Inspector against the URL, with the key as a header unless `key` is null. */
  const overHttp = (args: string[], key: string | null = KEY) =>
    runToExit(
      "npx",
      ["@modelcontextprotocol/inspector", "--cli", server.url, "--transport", "http", ...(key ? ["--header", `Authorization: Bearer ${key}`] : []), ...args],
      { cwd: MCP_PACKAGE_DIR, env: { PATH: `${MCP_PACKAGE_DIR}../../node_modules/.bin:${process.env.PATH ?? ""}`, npm_config_offline: "true" }, stdio: ["ignore", "pipe", "pipe"] },
      RUN_TIMEOUT_MS,
      `inspector http ${args.join(" ")}`,
    );

  test("tools/call chat_completion: exit 0 with the demo model's answer", T, async () => {
    const run = await overHttp(["--method", "tools/call", "--tool-name", "chat_completion", "--tool-arg", "prompt=Hello over HTTP"]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(parseOut(run).content[0].text, /^\[offline demo\].*Hello over HTTP/);
  });

  test("prompts/get ask_model and resources/read models://list", T, async () => {
    const prompt = await overHttp(["--method", "prompts/get", "--prompt-name", "ask_model", "--prompt-args", "question=What is MCP?", `model=${DEMO_MODEL}`]);
    assert.equal(prompt.code, 0, prompt.stderr);
    assert.match(parseOut(prompt).messages[0].content.text, /What is MCP\?/);
    const resource = await overHttp(["--method", "resources/read", "--uri", "models://list"]);
    assert.equal(resource.code, 0, resource.stderr);
    assert.match(parseOut(resource).contents[0].text, new RegExp(DEMO_MODEL));
  });

  test("without the header: it fails, saying authorization is needed", T, async () => {
    const run = await overHttp(["--method", "tools/list"], null);
    assert.notEqual(run.code, 0);
    // The Inspector answers a 401 by wanting to authorize (it would start OAuth on a terminal).
    assert.match(run.stdout + run.stderr, /auth_required|401|nauthorized/);
    assert.doesNotMatch(run.stdout, /"tools"/);
  });
});
