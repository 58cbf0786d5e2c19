/**
 * The container images as users run them, built from the root Dockerfile with podman (no Docker
 * engine and no image registry here: scripts/container-tools.sh installs podman and builds a local
 * stand-in for the official Node base image). The gateway container proxies to a fake upstream on
 * the host; the MCP container is started the way Docker Desktop starts an MCP server
 * (`run --rm -i -e ... IMAGE`) and driven by the MCP SDK's Client over stdio. Everything it builds
 * or starts is removed at the end, except the cached base image.
 *
 * It fails, never skips, when it cannot run (not root and podman missing): CI runs it as root.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { parse as parseYaml } from "yaml";
import {
  REPO, PODMAN_GLOBAL, RUN_FLAGS, buildFlags, freePort, imageIds, imageSize, mb, podman, progress, run, step, waitForHttp,
} from "./support/podman.ts";

const MINUTE = 60_000;
const RUN_ID = `${process.pid}-${Date.now().toString(36)}`;
const GATEWAY_IMAGE = `localhost/mcpgw-release-test/openai-gateway:${RUN_ID}`;
const MCP_IMAGE = `localhost/mcpgw-release-test/openai-gateway-mcp:${RUN_ID}`;
const GATEWAY_CONTAINER = `mcpgw-release-test-gateway-${RUN_ID}`;
const MCP_CONTAINER = `mcpgw-release-test-mcp-${RUN_ID}`;
const DATA_VOLUME = `mcpgw-release-test-data-${RUN_ID}`;
const CLIENT_KEY = "container-client-key-4b1d";
const UPSTREAM_KEY = "container-upstream-key-9e2c";
/** What the production dependency trees may never hold. */
const DEV_ONLY = ["node", "typescript", "nx", "@types", "@mcpgw/fake-upstream", "@modelcontextprotocol/inspector", "vite", "dockerfilelint"];

/** Set once the base image is ready; cleanup removes only images newer than this snapshot. */
let imagesBefore: Set<string> | undefined;
let baseImage = "";
let upstream: ChildProcess | undefined;
let upstreamUrl = "";
let gatewayOrigin = "";

/** The parts of a compose service the test reads. */
interface ComposeService {
  build?: { target?: string };
  env_file?: string;
  restart?: string;
  healthcheck?: { test?: string[] };
  ports?: string[];
  environment?: Record<string, string>;
  stdin_open?: boolean;
  tty?: boolean;
  depends_on?: Record<string, { condition?: string }>;
  volumes?: string[];
}

const logsOf = async (container: string) =>
  (await podman(["logs", container], { timeoutMs: 30_000, allowFailure: true })).stderr.slice(-4000);

// Checks of the files alone: they run even where podman cannot.

test("the Dockerfile passes dockerfilelint with no findings", async () => {
  const lint = join(REPO, "node_modules/dockerfilelint/bin/dockerfilelint");
  const { code, stdout } = await run(process.execPath, [lint, "Dockerfile"], { timeoutMs: MINUTE, allowFailure: true });
  assert.equal(code, 0, `dockerfilelint findings:\n${stdout}`);
});

test("docker-compose.yml wires the gateway and the MCP server; .env.example documents every variable", () => {
  const compose = parseYaml(readFileSync(join(REPO, "docker-compose.yml"), "utf8")) as {
    services: Record<string, ComposeService | undefined>;
  };
  const { gateway, mcp } = compose.services;
  assert.ok(gateway && mcp, "services gateway and mcp");
  assert.equal(gateway.build?.target, "gateway");
  assert.equal(gateway.env_file, ".env");
  assert.ok(gateway.restart, "gateway restart policy");
  assert.match(JSON.stringify(gateway.healthcheck?.test), /\/health/);
  assert.match(String(gateway.ports?.[0]), /:8080$/);
  assert.match(String(gateway.environment?.GATEWAY_API_KEYS), /^\$\{GATEWAY_API_KEYS:\?/, "compose refuses to start without client keys");
  assert.ok(gateway.volumes?.some((v) => v.endsWith(":/data")), "the chat sessions are on a volume");
  assert.equal(mcp.build?.target, "mcp");
  assert.equal(mcp.stdin_open, true);
  assert.notEqual(mcp.tty, true);
  assert.equal(mcp.environment?.GATEWAY_URL, "http://gateway:8080");
  assert.equal(mcp.depends_on?.gateway?.condition, "service_healthy");

  const example = readFileSync(join(REPO, ".env.example"), "utf8");
  const composeText = readFileSync(join(REPO, "docker-compose.yml"), "utf8");
  const interpolated = [...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!);
  const serviceVars = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "GATEWAY_API_KEYS", "HOST", "PORT", "LOG_LEVEL", "GATEWAY_URL", "GATEWAY_API_KEY", "DEFAULT_MODEL", "TIMEOUT", "MAX_RETRIES"];
  for (const name of new Set([...serviceVars, ...interpolated])) {
    assert.match(example, new RegExp(`\\b${name}\\b`), `.env.example does not mention ${name}`);
  }
  for (const line of example.split("\n").filter((l) => /^[A-Z_]+=/.test(l))) {
    const value = line.slice(line.indexOf("=") + 1);
    assert.doesNotMatch(value, /^sk-|[A-Za-z0-9]{32,}/, `.env.example holds what looks like a real key: ${line}`);
  }
});

describe("container images (Dockerfile, podman)", { timeout: 20 * MINUTE }, () => {
  before(async () => {
    if (process.platform !== "linux") throw new Error("the container smoke test needs Linux (podman, debootstrap)");
    baseImage = await step("container tools and base image stand-in (scripts/container-tools.sh)", async () => {
      // The script installs podman when missing (root only) and fails with a clear message otherwise.
      const { stdout } = await run("bash", [join(REPO, "scripts/container-tools.sh")], {
        timeoutMs: 12 * MINUTE,
        onStderrLine: (line) => line && progress(`  ${line}`),
      });
      return stdout.trim().split("\n").at(-1) ?? "";
    });
    imagesBefore = await imageIds();

    for (const [target, tag] of [["gateway", GATEWAY_IMAGE], ["mcp", MCP_IMAGE]] as const) {
      await step(`podman build --target ${target}`, () =>
        podman(["build", ...buildFlags(), "--target", target, "--tag", tag, REPO], { timeoutMs: 10 * MINUTE }),
      );
    }

    await step("fake upstream on 127.0.0.1 (packages/fake-upstream/dist/cli.js)", async () => {
      const cli = join(REPO, "packages/fake-upstream/dist/cli.js");
      upstream = spawn(process.execPath, [cli, "--port", "0", "--api-key", UPSTREAM_KEY], { stdio: ["ignore", "pipe", "pipe"] });
      upstreamUrl = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        const timer = setTimeout(() => reject(new Error(`fake upstream did not start: ${out}${err}`)), 15_000);
        upstream!.stderr!.on("data", (d) => (err += d));
        upstream!.stdout!.on("data", (d) => {
          out += d;
          const m = /listening on (\S+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        upstream!.once("exit", (code) => reject(new Error(`fake upstream exited (${code}): ${err || "is it built? npm run build"}`)));
      });
    });

    await step("gateway container (host network, GATEWAY_API_KEYS, OPENAI_BASE_URL = the fake upstream)", async () => {
      const port = await freePort();
      gatewayOrigin = `http://127.0.0.1:${port}`;
      await podman(
        ["run", "--detach", "--name", GATEWAY_CONTAINER, ...RUN_FLAGS, "--health-interval=disable",
          "-e", `GATEWAY_API_KEYS=${CLIENT_KEY}`, "-e", `OPENAI_API_KEY=${UPSTREAM_KEY}`, "-e", `OPENAI_BASE_URL=${upstreamUrl}`,
          "-e", `PORT=${port}`, GATEWAY_IMAGE],
        { timeoutMs: 2 * MINUTE },
      );
      await waitForHttp(`${gatewayOrigin}/health`, 30_000, () => logsOf(GATEWAY_CONTAINER));
    });
  }, { timeout: 18 * MINUTE });

  after(async () => {
    await step("clean up containers, images and the fake upstream", async () => {
      for (const name of [GATEWAY_CONTAINER, MCP_CONTAINER, `${MCP_CONTAINER}-raw`, `${MCP_CONTAINER}-http`, `${GATEWAY_CONTAINER}-data`]) {
        await podman(["rm", "--force", "--time", "5", name], { timeoutMs: MINUTE, allowFailure: true });
      }
      await podman(["volume", "rm", "--force", DATA_VOLUME], { timeoutMs: MINUTE, allowFailure: true });
      upstream?.kill("SIGTERM");
      await podman(["rmi", "--force", GATEWAY_IMAGE, MCP_IMAGE], { timeoutMs: MINUTE, allowFailure: true });
      // The intermediate stage images this run's builds left: every image that is new since the
      // base image was ready. The base image stays as the cache for the next run.
      const before = imagesBefore;
      const created = before ? [...(await imageIds().catch(() => new Set<string>()))].filter((id) => !before.has(id)) : [];
      if (created.length) await podman(["rmi", "--force", ...created], { timeoutMs: 2 * MINUTE, allowFailure: true });
    });
  });

  test("the images are small and hold only production dependencies", { timeout: 5 * MINUTE }, async () => {
    const base = await imageSize(baseImage);
    const limits = { [GATEWAY_IMAGE]: 60e6, [MCP_IMAGE]: 120e6 };
    for (const [image, limit] of Object.entries(limits)) {
      const size = await imageSize(image);
      progress(`${image}: ${mb(size)} (base ${mb(base)} + ${mb(size - base)} of application)`);
      assert.ok(size - base < limit, `${image} adds ${mb(size - base)} to the base image (limit ${mb(limit)})`);

      const listing = await podman(
        ["run", "--rm", ...RUN_FLAGS, "--entrypoint", "sh", image, "-c",
          "ls -A /app/packages; echo ---; cd /app/node_modules && ls -d -- * @*/*; echo ---; find /app -type f -size +20M"],
        { timeoutMs: 2 * MINUTE },
      );
      const [packages = "", modules = "", big = ""] = listing.stdout.split("---\n");
      const names = modules.split(/\s+/).filter(Boolean);
      assert.ok(names.length > 10, `node_modules listed: ${modules}`);
      const holds = (name: string) => names.some((n) => n === name || n.startsWith(`${name}/`));
      for (const name of DEV_ONLY) assert.ok(!holds(name), `${image}: node_modules holds the dev-only package ${name}`);
      assert.equal(big.trim(), "", `${image}: large files under /app (a Node binary from the devDependency?):\n${big}`);
      // Its own workspace and the shared packages it depends on, nothing else.
      const own = image === GATEWAY_IMAGE ? ["mcp-http", "mcp-tools", "openai-gateway", "openai-protocol"] : ["mcp-http", "mcp-tools", "openai-gateway-mcp", "openai-protocol"];
      assert.deepEqual(packages.split(/\s+/).filter(Boolean), own, `${image}: only its own workspace and the shared packages it uses under /app/packages`);
      // Each image carries its own service's dependencies, not the other's.
      // (The gateway holds the MCP SDK too now: it is an MCP client of its MCP servers.)
      const foreign = image === GATEWAY_IMAGE ? ["openai", "@modelcontextprotocol/server-everything"] : ["fastify", "prom-client"];
      for (const name of foreign) assert.ok(!holds(name), `${image}: holds ${name}, which only the other service needs`);
    }
  });

  test("both images run as a non-root user", { timeout: 2 * MINUTE }, async () => {
    for (const image of [GATEWAY_IMAGE, MCP_IMAGE]) {
      const user = (await podman(["image", "inspect", "--format", "{{.Config.User}}", image], { timeoutMs: MINUTE })).stdout.trim();
      assert.equal(user, "1000:1000", `${image}: USER`);
      const { stdout } = await podman(["run", "--rm", ...RUN_FLAGS, "--entrypoint", "id", image, "-u"], { timeoutMs: MINUTE });
      assert.notEqual(stdout.trim(), "0", `${image} runs as root`);
    }
  });

  test("gateway: /health, the image's HEALTHCHECK, a chat completion from the upstream, and one through /mcp", { timeout: 2 * MINUTE }, async () => {
    const health = await fetch(`${gatewayOrigin}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });

    const check = await podman(["inspect", "--format", "{{json .Config.Healthcheck}}", GATEWAY_CONTAINER], { timeoutMs: MINUTE });
    assert.match(check.stdout, /\/health/, "the container carries the image's HEALTHCHECK");
    const hc = await podman(["healthcheck", "run", GATEWAY_CONTAINER], { timeoutMs: MINUTE, allowFailure: true });
    assert.equal(hc.code, 0, `podman healthcheck run: ${hc.stdout}${hc.stderr}`);

    const res = await fetch(`${gatewayOrigin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello from a container" }] }),
    });
    const body = (await res.json()) as { model?: string; choices?: { message?: { content?: string } }[] };
    // The fake upstream answers only its own key: a 200 means the gateway sent the upstream key.
    assert.equal(res.status, 200, `chat completion: ${JSON.stringify(body)}\n${await logsOf(GATEWAY_CONTAINER)}`);
    assert.equal(body.choices?.[0]?.message?.content, "echo: hello from a container");
    assert.equal(body.model, "gpt-4o-mini");

    const denied = await fetch(`${gatewayOrigin}/v1/models`, { headers: { authorization: "Bearer not-a-client-key" } });
    assert.equal(denied.status, 401, "a wrong client key is refused");

    // /mcp loads the MCP SDK and the shared MCP packages at its first request: they are in the image.
    const mcp = new Client({ name: "container-gateway-mcp", version: "0.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${gatewayOrigin}/mcp`), { requestInit: { headers: { authorization: `Bearer ${CLIENT_KEY}` } } }));
    try {
      const reply = await mcp.callTool({ name: "chat_completion", arguments: { prompt: "hello through /mcp", model: "gpt-4o-mini" } });
      assert.equal((reply.content as { text: string }[])[0]?.text, "echo: hello through /mcp", await logsOf(GATEWAY_CONTAINER));
    } finally {
      await mcp.close();
    }
  });

  test("gateway: chat sessions are kept on the /data volume, so a new container goes on with them", { timeout: 3 * MINUTE }, async () => {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const name = `${GATEWAY_CONTAINER}-data`;
    const start = async () => {
      await podman(
        ["run", "--detach", "--name", name, ...RUN_FLAGS, "--health-interval=disable", "-v", `${DATA_VOLUME}:/data`,
          "-e", `GATEWAY_API_KEYS=${CLIENT_KEY}`, "-e", `OPENAI_API_KEY=${UPSTREAM_KEY}`, "-e", `OPENAI_BASE_URL=${upstreamUrl}`, "-e", `PORT=${port}`, GATEWAY_IMAGE],
        { timeoutMs: 2 * MINUTE },
      );
      await waitForHttp(`${origin}/health`, 30_000, () => logsOf(name));
    };
    const chat = async (body: object) => {
      const res = await fetch(`${origin}/chat`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${CLIENT_KEY}` }, body: JSON.stringify(body) });
      const answer = (await res.json()) as { response?: string; session_id?: string };
      assert.equal(res.status, 200, `POST /chat: ${JSON.stringify(answer)}\n${await logsOf(name)}`);
      return answer;
    };
    await start();
    const first = await chat({ message: "hello from a container", model: "gpt-4o-mini" });
    assert.equal(first.response, "echo: hello from a container");
    await podman(["rm", "--force", "--time", "10", name], { timeoutMs: MINUTE });
    await start();
    const next = await chat({ message: "still there?", session_id: first.session_id });
    assert.equal(next.response, "echo: still there?");
    const history = (await (await fetch(`${origin}/chat/${first.session_id}`, { headers: { authorization: `Bearer ${CLIENT_KEY}` } })).json()) as { messages: { content: string }[] };
    assert.deepEqual(history.messages.map((m) => m.content), ["hello from a container", "echo: hello from a container", "still there?", "echo: still there?"]);
  });

  test("gateway: without GATEWAY_API_KEYS it refuses to listen on the container's 0.0.0.0", { timeout: 2 * MINUTE }, async () => {
    const port = await freePort();
    const { code, stderr } = await podman(["run", "--rm", ...RUN_FLAGS, "-e", `PORT=${port}`, GATEWAY_IMAGE], {
      timeoutMs: MINUTE,
      allowFailure: true,
    });
    assert.equal(code, 1);
    assert.match(stderr, /refuses to listen on 0\.0\.0\.0.*GATEWAY_API_KEYS/s);
  });

  test("mcp: started as Docker Desktop starts it, answers initialize, tools/list and chat_completion through the gateway", { timeout: 3 * MINUTE }, async () => {
    const transport = new StdioClientTransport({
      command: "podman",
      args: [...PODMAN_GLOBAL, "run", "--rm", "-i", "--name", MCP_CONTAINER, ...RUN_FLAGS,
        "-e", `GATEWAY_URL=${gatewayOrigin}`, "-e", `GATEWAY_API_KEY=${CLIENT_KEY}`, MCP_IMAGE],
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr!.on("data", (d) => (stderr += d));
    const client = new Client({ name: "container-smoke-test", version: "0.0.0" });
    const protocolErrors: string[] = [];
    client.onerror = (err) => protocolErrors.push(err.message);
    try {
      await client.connect(transport, { timeout: 60_000 });
      assert.equal(client.getServerVersion()?.name, "openai-gateway-mcp");

      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ["chat_completion", "list_models"]);

      const result = await client.callTool({ name: "chat_completion", arguments: { prompt: "hello through two containers", model: "gpt-4o-mini" } });
      assert.equal(result.isError, undefined, `chat_completion failed: ${JSON.stringify(result.content)}\n${stderr}`);
      const sc = result.structuredContent as { content: string; model: string };
      assert.equal(sc.content, "echo: hello through two containers");
      assert.equal(sc.model, "gpt-4o-mini");
    } finally {
      await client.close();
    }
    // A line on stdout that is not JSON-RPC would have surfaced here as a parse error.
    assert.deepEqual(protocolErrors, [], `MCP stream errors; stderr:\n${stderr}`);
  });

  test("mcp: detached over Streamable HTTP with keys of its own; its HEALTHCHECK asks /health", { timeout: 3 * MINUTE }, async () => {
    const port = await freePort();
    const name = `${MCP_CONTAINER}-http`;
    const key = "container-mcp-http-key-77c1";
    await podman(
      ["run", "--detach", "--name", name, ...RUN_FLAGS, "--health-interval=disable",
        "-e", "MCP_TRANSPORT=http", "-e", "HOST=0.0.0.0", "-e", `PORT=${port}`, "-e", `MCP_API_KEYS=${key}`,
        "-e", `GATEWAY_URL=${gatewayOrigin}`, "-e", `GATEWAY_API_KEY=${CLIENT_KEY}`, MCP_IMAGE],
      { timeoutMs: 2 * MINUTE },
    );
    await waitForHttp(`http://127.0.0.1:${port}/health`, 30_000, () => logsOf(name));
    const hc = await podman(["healthcheck", "run", name], { timeoutMs: MINUTE, allowFailure: true });
    assert.equal(hc.code, 0, `podman healthcheck run: ${hc.stdout}${hc.stderr}`);
    const url = new URL(`http://127.0.0.1:${port}/mcp`);
    const refused = await fetch(url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    assert.equal(refused.status, 401, "no key, no MCP");
    const client = new Client({ name: "container-http-test", version: "0.0.0" });
    await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
    try {
      const result = await client.callTool({ name: "chat_completion", arguments: { prompt: "hello over http from a container", model: "gpt-4o-mini" } });
      assert.equal((result.content as { text: string }[])[0]?.text, "echo: hello over http from a container", await logsOf(name));
    } finally {
      await client.close();
    }
    await podman(["rm", "--force", "--time", "10", name], { timeoutMs: MINUTE });
  });

  test("mcp: every line the container writes to stdout is a JSON-RPC message", { timeout: 3 * MINUTE }, async () => {
    const requests = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
      { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "chat_completion", arguments: { prompt: "raw stdout", model: "gpt-4o-mini" } } },
    ];
    const proc = spawn("podman", [...PODMAN_GLOBAL, "run", "--rm", "-i", "--name", `${MCP_CONTAINER}-raw`, ...RUN_FLAGS,
      "-e", `GATEWAY_URL=${gatewayOrigin}`, "-e", `GATEWAY_API_KEY=${CLIENT_KEY}`, "-e", "LOG_LEVEL=debug", MCP_IMAGE]);
    let stdout = "";
    let stderr = "";
    proc.stderr.on("data", (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => proc.once("close", resolve));
    const answered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to tools/call within 60 s\nstdout:\n${stdout}\nstderr:\n${stderr}`)), 60_000);
      proc.stdout.on("data", (d) => {
        stdout += d;
        if (/"id":3[,}]/.test(stdout) && stdout.endsWith("\n")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    proc.stdin.write(requests.map((r) => JSON.stringify(r)).join("\n") + "\n");
    try {
      await answered;
    } finally {
      proc.stdin.end(); // stdin closing is how an MCP client stops the server
    }
    assert.equal(await exited, 0, `the container exits cleanly when stdin closes\n${stderr}`);

    const lines = stdout.split("\n").filter((l) => l !== "");
    for (const line of lines) {
      let msg: { jsonrpc?: string };
      try {
        msg = JSON.parse(line);
      } catch {
        assert.fail(`not JSON on stdout: ${line}`);
      }
      assert.equal(msg.jsonrpc, "2.0", `not JSON-RPC on stdout: ${line}`);
    }
    assert.ok(lines.length >= 3, `answers to initialize, tools/list and tools/call: ${stdout}`);
    assert.match(stderr, /ready on stdio/, "logs go to stderr");
  });
});
