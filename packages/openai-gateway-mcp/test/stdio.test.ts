/**
 * The bin as a process on stdio, spoken to with raw JSON-RPC lines: stdout carries MCP messages and
 * nothing else, logs go to stderr and (as notifications/message) to the client, the process exits 0
 * promptly when stdin closes or on SIGINT/SIGTERM, and its configuration (env, flags, --help,
 * --version, what is missing or wrong) reads the way the issue promises.
 */
import assert from "node:assert/strict";
import { createServer, type AddressInfo } from "node:net";
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { configFor, startGateway, type GatewayProcess, cleanEnv, connectMcp, MCP_CLI, runMcp, textOf } from "@mcpgw/test-support";

const CLIENT_KEY = "stdio-client-key-93b1";
const T = { timeout: 30_000 };
const VERSION = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;
const REPO_ROOT = new URL("../../../", import.meta.url).pathname;
/** "Promptly", from the issue: the budget for an exit after stdin closes or a signal. */
const PROMPT_EXIT_MS = 2_000;

let upstream: FakeUpstream;
let gateway: GatewayProcess;

before(async () => {
  upstream = await startFakeUpstream();
  gateway = await startGateway({
    env: { UPSTREAM_KEY: "u", GATEWAY_API_KEYS: CLIENT_KEY },
    config: configFor(upstream.url, { retry: { maxAttempts: 1 } }),
  });
});
beforeEach(() => upstream.reset());
after(async () => {
  await gateway?.stop();
  await upstream?.close();
});

const configured = (extra: Record<string, string> = {}) => ({ GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: CLIENT_KEY, ...extra });

interface JsonRpc {
  jsonrpc: string;
  id?: number | string;
  method?: string;
  params?: any;
  result?: any;
  error?: any;
}

/** The bin on raw stdio: every stdout line kept as written, and parsed when it parses. */
class RawSession {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly stdoutLines: string[] = [];
  readonly messages: JsonRpc[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  #nextId = 1;
  #waiters = new Set<() => void>();

  constructor(env: Record<string, string>, args: string[] = []) {
    this.proc = spawn(process.execPath, [MCP_CLI, ...args], { env: cleanEnv(env), stdio: ["pipe", "pipe", "pipe"] });
    this.exited = new Promise((resolve) =>
      this.proc.once("exit", (code, signal) => resolve({ code, signal, at: performance.now() })),
    );
    let rest = "";
    this.proc.stdout.setEncoding("utf8");
    this.proc.stdout.on("data", (chunk: string) => {
      const parts = (rest + chunk).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        this.stdoutLines.push(line);
        try {
          this.messages.push(JSON.parse(line) as JsonRpc);
        } catch {
          // kept in stdoutLines; the tests fail on it
        }
      }
      this.#notify();
    });
    this.proc.stdout.on("end", () => {
      if (rest) this.stdoutLines.push(rest);
    });
    this.proc.stderr.setEncoding("utf8");
    this.proc.stderr.on("data", (chunk: string) => {
      this.stderr += chunk;
      this.#notify();
    });
  }

  #notify() {
    for (const w of this.#waiters) w();
  }

  /** Resolves with the first value `check` returns that is not undefined. */
  waitFor<V>(check: () => V | undefined, what: string, timeoutMs = 10_000): Promise<V> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(onChange);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}\nstdout:\n${this.stdoutLines.join("\n")}\nstderr:\n${this.stderr}`));
      }, timeoutMs);
      const onChange = () => {
        const v = check();
        if (v === undefined) return;
        done();
        resolve(v);
      };
      this.#waiters.add(onChange);
      onChange();
    });
  }

  send(message: object): void {
    this.proc.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...message })}\n`);
  }

  /** Writes `text` to stdin as it is: for lines that are not (valid) JSON-RPC. */
  writeRaw(text: string): void {
    this.proc.stdin.write(text);
  }

  /** Resolves with the first response that is an error for `id` (null for "no usable id"), arriving from message number `from` on. */
  errorFor(id: number | string | null, from: number, what: string, timeoutMs?: number): Promise<JsonRpc> {
    return this.waitFor(
      () => this.messages.slice(from).find((m) => m.error && !m.method && (m.id ?? null) === id),
      what,
      timeoutMs,
    );
  }

  notify(method: string, params?: object): void {
    this.send(params ? { method, params } : { method });
  }

  /** Sends a request and resolves with its response (result or error). */
  request(method: string, params?: object): Promise<JsonRpc> {
    const id = this.#nextId++;
    this.send(params ? { id, method, params } : { id, method });
    return this.waitFor(() => this.messages.find((m) => m.id === id && !m.method), `the response to ${method} (id ${id})`);
  }

  async initialize(): Promise<JsonRpc> {
    const res = await this.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "raw-stdio-test", version: "0.0.0" },
    });
    this.notify("notifications/initialized");
    return res;
  }

  /** Ends stdin and resolves with the exit and how long it took. */
  async closeStdin(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const start = performance.now();
    this.proc.stdin.end();
    return this.#exitWithin(start);
  }

  async signal(sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
    const start = performance.now();
    this.proc.kill(sig);
    return this.#exitWithin(start);
  }

  async #exitWithin(start: number) {
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), PROMPT_EXIT_MS + 3_000);
    const { code, signal, at } = await this.exited;
    clearTimeout(timer);
    return { code, signal, ms: at - start };
  }

  /** For `finally`: whatever happened, the process is gone afterwards. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill("SIGKILL");
    await this.exited;
  }
}

/** Every stdout line is a JSON-RPC 2.0 message: a request, a notification or a response. */
function assertProtocolOnly(s: RawSession): void {
  assert.ok(s.stdoutLines.length > 0, "the server wrote to stdout");
  for (const line of s.stdoutLines) {
    let m: JsonRpc;
    try {
      m = JSON.parse(line) as JsonRpc;
    } catch {
      assert.fail(`stdout line is not JSON: ${JSON.stringify(line)}`);
    }
    assert.equal(m.jsonrpc, "2.0", `not JSON-RPC 2.0: ${line}`);
    assert.ok(
      typeof m.method === "string" || (m.id !== undefined && ("result" in m || "error" in m)),
      `neither a request, a notification nor a response: ${line}`,
    );
  }
}

describe("stdout carries protocol only", () => {
  test("initialize, tools/list and tools/call: every stdout line is JSON-RPC; the logs are on stderr", T, async () => {
    const s = new RawSession(configured({ LOG_LEVEL: "debug" }));
    try {
      const init = await s.initialize();
      assert.equal(init.result?.serverInfo?.name, "openai-gateway-mcp");
      assert.equal(init.result?.serverInfo?.version, VERSION);
      assert.equal(init.result?.protocolVersion, "2025-11-25");

      const list = await s.request("tools/list");
      assert.deepEqual(list.result.tools.map((t: { name: string }) => t.name).sort(), ["chat_completion", "list_models"]);

      const call = await s.request("tools/call", { name: "chat_completion", arguments: { prompt: "over stdio" } });
      assert.equal(call.result.isError, undefined);
      assert.equal(call.result.content[0].text, "echo: over stdio");

      const exit = await s.closeStdin();
      assert.equal(exit.code, 0);
      assertProtocolOnly(s);
      // The log lines exist, and they went to stderr.
      assert.match(s.stderr, /ready on stdio/);
      assert.match(s.stderr, /shutting down \(stdin closed\)/);
    } finally {
      await s.kill();
    }
  });

  test("logging/setLevel: notifications/message reach the client at and above the level set", T, async () => {
    // A gateway that is not there: a connection error, which the MCP server retries (the gateway's
    // own errors say x-should-retry: false once it has retried the upstream itself).
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const s = new RawSession(configured({ MAX_RETRIES: "1", GATEWAY_URL: `http://127.0.0.1:${port}` }));
    try {
      await s.initialize();
      const set = await s.request("logging/setLevel", { level: "warning" });
      assert.deepEqual(set.result, {});
      const logsBefore = s.messages.length;

      const call = await s.request("tools/call", { name: "chat_completion", arguments: { prompt: "hi" } });
      assert.equal(call.result.isError, true);
      assert.match(call.result.content[0].text, /Could not reach the gateway.*ECONNREFUSED/);

      const logs = s.messages.slice(logsBefore).filter((m) => m.method === "notifications/message");
      const warnings = logs.filter((m) => m.params.level === "warning");
      assert.ok(warnings.some((m) => /attempt 1 failed/.test(JSON.stringify(m.params.data))), JSON.stringify(logs));
      assert.ok(warnings.every((m) => m.params.logger === "openai-gateway-mcp"));
      // The retry itself is logged at info: filtered out for this client, still on stderr.
      assert.deepEqual(logs.filter((m) => m.params.level === "info"), []);
      assert.match(s.stderr, /retrying in \d+ ms/);
      assertProtocolOnly(s);
    } finally {
      await s.kill();
    }
  });
});

const MB = 1024 * 1024;

/** The process's peak resident memory so far, in bytes (Linux's VmHWM). */
function peakRssBytes(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(m, "VmHWM in /proc/PID/status");
  return Number(m[1]) * 1024;
}

/** Lines of stderr that match `re`. */
const stderrLines = (s: RawSession, re: RegExp) => s.stderr.split("\n").filter((l) => re.test(l));

/** Waits for `n` lines of stderr matching `re` (stderr is its own pipe: it may trail stdout), then checks there are no more. */
async function expectStderrLines(s: RawSession, re: RegExp, n: number): Promise<void> {
  await s.waitFor(() => (stderrLines(s, re).length >= n ? true : undefined), `${n} stderr lines matching ${re}`);
  assert.equal(stderrLines(s, re).length, n, s.stderr);
}

describe("stdin that is not a valid JSON-RPC message is answered, and the server goes on", () => {
  test("a 30 MB line: discarded without being held whole, answered -32600 naming the limit; tools/list still answered", T, async () => {
    const s = new RawSession(configured());
    try {
      await s.initialize();
      await s.request("tools/list");
      // A call first, so that the baseline has the SDK loaded and a connection made (it loads in the background).
      const models = await s.request("tools/call", { name: "list_models", arguments: {} });
      assert.equal(models.result.isError, undefined);
      upstream.reset();
      const pid = s.proc.pid!;
      const before = peakRssBytes(pid);
      const from = s.messages.length;
      // Three times the 10 MB limit: held whole it would raise the peak by 30 MB; skipped, by at most the limit.
      const prompt = "x".repeat(30 * MB);
      s.writeRaw(`${JSON.stringify({ jsonrpc: "2.0", id: 77, method: "tools/call", params: { name: "chat_completion", arguments: { prompt } } })}\n`);
      const answer = await s.errorFor(null, from, "the answer to the 30 MB line", 30_000);
      assert.equal(answer.error.code, -32600);
      assert.match(answer.error.message, /10 MB/, "the message names the limit");

      const list = await s.request("tools/list");
      assert.deepEqual(list.result.tools.map((t: { name: string }) => t.name).sort(), ["chat_completion", "list_models"]);
      assert.equal(s.proc.exitCode, null, "the server exited");
      const grew = peakRssBytes(pid) - before;
      assert.ok(grew < 20 * MB, `peak RSS grew ${(grew / MB).toFixed(1)} MB: the line was held whole`);
      assert.equal(upstream.requests.length, 0, "the discarded call reached the gateway");
      await expectStderrLines(s, /10 MB/, 1);
      assertProtocolOnly(s);
    } finally {
      await s.kill();
    }
  });

  test("a line that is not JSON: -32700 Parse error with id null, nothing of it echoed to stderr", T, async () => {
    const s = new RawSession(configured());
    try {
      await s.initialize();
      for (const line of ["this is not json sk-should-not-be-logged-4f2a", '{"jsonrpc":"2.0","id":3,', "{'single': 'quotes'}"]) {
        const from = s.messages.length;
        s.writeRaw(`${line}\n`);
        const answer = await s.errorFor(null, from, `the answer to ${JSON.stringify(line)}`);
        assert.equal(answer.error.code, -32700, line);
        assert.match(answer.error.message, /^Parse error/, line);
      }
      await expectStderrLines(s, /not JSON/, 3);
      assert.ok(!s.stderr.includes("sk-should-not-be-logged"), "the line's content reached stderr");
      const ping = await s.request("ping");
      assert.deepEqual(ping.result, {});
      assertProtocolOnly(s);
    } finally {
      await s.kill();
    }
  });

  test("JSON that is not a JSON-RPC 2.0 message: -32600 Invalid Request, with the request's id when it has a usable one", T, async () => {
    const cases: [line: string, id: number | string | null][] = [
      ['{"foo":1}', null],
      ['{"jsonrpc":"2.0","id":5,"method":3}', 5],
      ['{"jsonrpc":"1.0","id":"req-a","method":"ping"}', "req-a"],
      ['{"id":6,"method":"ping"}', 6],
      ['{"jsonrpc":"2.0","id":9,"method":"tools/list","params":"not an object"}', 9],
      ['{"jsonrpc":"2.0","id":1.5,"method":"ping"}', null],
      ['{"jsonrpc":"2.0","id":null,"method":"ping"}', null],
      ['[{"jsonrpc":"2.0","id":7,"method":"ping"}]', null],
      ["42", null],
    ];
    const s = new RawSession(configured());
    try {
      await s.initialize();
      for (const [line, id] of cases) {
        const from = s.messages.length;
        s.writeRaw(`${line}\n`);
        const answer = await s.errorFor(id, from, `the answer to ${line}`);
        assert.equal(answer.error.code, -32600, line);
        assert.match(answer.error.message, /^Invalid Request/, line);
      }
      await expectStderrLines(s, /Invalid Request/, cases.length);
      const list = await s.request("tools/list");
      assert.equal(list.result.tools.length, 2);
      assertProtocolOnly(s);
    } finally {
      await s.kill();
    }
  });

  test("JSON nested deeper than the limit: -32600 with the request's id, never handed to the server", T, async () => {
    const depth = 100_000;
    const deep = "[".repeat(depth) + "]".repeat(depth);
    const s = new RawSession(configured());
    try {
      await s.initialize();
      const from = s.messages.length;
      s.writeRaw(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"chat_completion","arguments":{"prompt":"hi","deep":${deep}}}}\n`);
      const answer = await s.errorFor(8, from, "the answer to the deeply nested request");
      assert.equal(answer.error.code, -32600);
      assert.match(answer.error.message, /nest/);
      assert.equal(upstream.requests.length, 0, "the deep request reached the gateway");
      const list = await s.request("tools/list");
      assert.equal(list.result.tools.length, 2);
      assertProtocolOnly(s);
    } finally {
      await s.kill();
    }
  });

  test("an invalid notification (no id) gets no answer, only a line on stderr", T, async () => {
    const s = new RawSession(configured());
    try {
      await s.initialize();
      const from = s.messages.length;
      s.writeRaw('{"jsonrpc":"2.0","method":"notifications/cancelled","params":"not an object"}\n');
      s.writeRaw('{"jsonrpc":"1.0","method":"notifications/initialized"}\n');
      // Lines are handled in order: by the time ping is answered, an answer to those would be out.
      const ping = await s.request("ping");
      assert.deepEqual(ping.result, {});
      assert.deepEqual(s.messages.slice(from).filter((m) => m.error), [], "an invalid notification was answered");
      await expectStderrLines(s, /invalid notification/, 2);
      assertProtocolOnly(s);
    } finally {
      await s.kill();
    }
  });
});

describe("exits 0 promptly", () => {
  // Idle, and with a call in flight that the upstream never answers: a pending request must not
  // hold the process open.
  for (const inFlight of [false, true]) {
    const when = inFlight ? "with a call in flight" : "idle, after a gateway call";
    for (const how of ["stdin close", "SIGTERM", "SIGINT"] as const) {
      test(`on ${how}, ${when}`, T, async () => {
        const s = new RawSession(configured());
        try {
          await s.initialize();
          const call = await s.request("tools/call", { name: "list_models", arguments: {} });
          assert.equal(call.result.isError, undefined);
          if (inFlight) {
            upstream.setDefault("/v1/chat/completions", { kind: "hang" });
            const seen = upstream.requests.length;
            s.send({ id: 99, method: "tools/call", params: { name: "chat_completion", arguments: { prompt: "never answered" } } });
            await upstream.waitForRequests(seen + 1);
          }
          const exit = how === "stdin close" ? await s.closeStdin() : await s.signal(how);
          assert.deepEqual([exit.code, exit.signal], [0, null], s.stderr);
          assert.ok(exit.ms < PROMPT_EXIT_MS, `exited after ${Math.round(exit.ms)} ms`);
          assertProtocolOnly(s);
        } finally {
          await s.kill();
        }
      });
    }
  }
});

describe("configuration", () => {
  test("unconfigured: tools can be listed; a call names GATEWAY_URL and GATEWAY_API_KEY", T, async () => {
    const mcp = await connectMcp({ env: {} });
    try {
      const { tools } = await mcp.client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ["chat_completion", "list_models"]);
      for (const [name, args] of [["list_models", {}], ["chat_completion", { prompt: "hi" }]] as const) {
        const result = await mcp.client.callTool({ name, arguments: args });
        assert.equal(result.isError, true, name);
        assert.match(textOf(result), /GATEWAY_URL/);
        assert.match(textOf(result), /GATEWAY_API_KEY/);
        assert.doesNotMatch(textOf(result), /\n\s+at /);
      }
      assert.match(mcp.stderr(), /GATEWAY_URL/);
      assert.match(mcp.stderr(), /GATEWAY_API_KEY/);
    } finally {
      await mcp.close();
    }
  });

  test("TIMEOUT=abc: named on stderr at start and in a tool call's error", T, async () => {
    const mcp = await connectMcp({ env: configured({ TIMEOUT: "abc" }) });
    try {
      assert.match(mcp.stderr(), /TIMEOUT.*'abc'/);
      const result = await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "hi" } });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /TIMEOUT.*'abc'/);
      assert.doesNotMatch(textOf(result), /GATEWAY_URL|GATEWAY_API_KEY/, "only the wrong setting is named");
      assert.equal(upstream.requests.length, 0);
    } finally {
      await mcp.close();
    }
  });

  test("a GATEWAY_API_KEY that is wrong is never echoed, even as a config problem", T, async () => {
    const mcp = await connectMcp({ env: { GATEWAY_URL: "not a url", GATEWAY_API_KEY: "secret-key-xyz-4821" } });
    try {
      const result = await mcp.client.callTool({ name: "list_models", arguments: {} });
      assert.equal(result.isError, true);
      assert.match(textOf(result), /GATEWAY_URL.*'not a url'/);
      assert.ok(!textOf(result).includes("secret-key-xyz-4821"));
      assert.ok(!mcp.stderr().includes("secret-key-xyz-4821"));
    } finally {
      await mcp.close();
    }
  });

  test("flags override the environment", T, async () => {
    const mcp = await connectMcp({
      env: { GATEWAY_URL: "http://127.0.0.1:9/", GATEWAY_API_KEY: "wrong", DEFAULT_MODEL: "env-model" },
      args: ["--gateway-url", gateway.origin, "--gateway-api-key", CLIENT_KEY, "--default-model", "flag-model"],
    });
    try {
      const result = await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "which model" } });
      assert.equal(result.isError, undefined, textOf(result));
      assert.deepEqual(upstream.requests.map((r) => r.body?.model), ["flag-model"]);
    } finally {
      await mcp.close();
    }
  });

  test("DEFAULT_MODEL from the environment is used when no flag is given", T, async () => {
    const mcp = await connectMcp({ env: configured({ DEFAULT_MODEL: "env-model" }) });
    try {
      const result = await mcp.client.callTool({ name: "chat_completion", arguments: { prompt: "which model" } });
      assert.equal(result.isError, undefined, textOf(result));
      assert.deepEqual(upstream.requests.map((r) => r.body?.model), ["env-model"]);
    } finally {
      await mcp.close();
    }
  });

  test("--help prints usage with every flag and its variable to stdout and exits 0", T, async () => {
    const { code, stdout, stderr } = await runMcp(["--help"]);
    assert.equal(code, 0, stderr);
    for (const [flag, env] of [
      ["--gateway-url", "GATEWAY_URL"],
      ["--gateway-api-key", "GATEWAY_API_KEY"],
      ["--default-model", "DEFAULT_MODEL"],
      ["--timeout", "TIMEOUT"],
      ["--max-retries", "MAX_RETRIES"],
      ["--log-level", "LOG_LEVEL"],
    ]) {
      assert.match(stdout, new RegExp(`${flag}\\b[\\s\\S]*?\\[${env}\\b`), `${flag} [${env}] in --help`);
    }
    assert.match(stdout, /--version/);
  });

  test("--version prints the package version to stdout and exits 0", T, async () => {
    const { code, stdout, stderr } = await runMcp(["--version"]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), VERSION);
  });

  test("an unknown flag is refused on stderr with exit code 1, stdout untouched", T, async () => {
    const { code, stdout, stderr } = await runMcp(["--gateway-ulr", "http://x"]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(stderr, /gateway-ulr/);
  });

  test("`npx openai-gateway-mcp --version` from the repository root", T, () => {
    const r = spawnSync("npx", ["openai-gateway-mcp", "--version"], {
      cwd: REPO_ROOT,
      env: { PATH: `${REPO_ROOT}node_modules/.bin:${process.env.PATH ?? ""}`, npm_config_offline: "true" },
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(r.status, 0, `${r.error ?? ""}\n${r.stderr}`);
    assert.equal(r.stdout.trim(), VERSION);
  });
});
