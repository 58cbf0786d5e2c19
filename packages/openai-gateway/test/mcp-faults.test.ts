/**
 * The MCP registry when servers misbehave, each fault a tiny fixture server (test/fixtures/):
 * one that crashes mid-call, one that hangs, one that writes garbage to stdout, ones that never
 * start, one whose tool list changes; the child's environment; secrets kept out of lastError; and
 * close(), which must leave no process behind, a child that ignores SIGTERM and its own children
 * included.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { tmpdir } from "node:os";
import { createMcpRegistry } from "../src/mcp/clients/registry.ts";
import { LINES_PER_SECOND } from "../src/mcp/clients/stderr-lines.ts";
import type { McpRegistry, ServerStatus } from "../src/mcp/clients/types.ts";
import { ToolCallFailure } from "../src/mcp/clients/types.ts";
import { fixture, http, isRunning, killMarkedProcesses, MARKER, markedProcesses, neverAborted, recordingLog, recordingMetrics, stdio, textOf, waitFor } from "./fixtures/registry-harness.ts";

const FAST = { initialBackoffMs: 100, maxBackoffMs: 400, pingIntervalMs: 100 };
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail("expected the call to fail"),
    (err: unknown) => {
      assert.ok(err instanceof ToolCallFailure, `not a ToolCallFailure: ${err}`);
      return err;
    },
  );
const statusOf = (registry: McpRegistry, name: string): ServerStatus => registry.statuses().find((s) => s.name === name)!;

after(killMarkedProcesses);

describe("servers that crash, hang, write garbage, change their tools", () => {
  let registry: McpRegistry;
  const rec = recordingLog();
  const met = recordingMetrics();
  let changes = 0;

  before(async () => {
    registry = createMcpRegistry(
      {
        log: rec.log,
        metrics: met.metrics,
        servers: [
          stdio("crash", [fixture("crash-server")]),
          stdio("hang", [fixture("hang-server")], { toolTimeoutMs: 300 }),
          stdio("garbage", [fixture("garbage-server")]),
          stdio("changer", [fixture("list-changed-server")]),
        ],
      },
      FAST,
    );
    registry.onToolsChanged(() => changes++);
    registry.start();
    await waitFor("every fixture ready", () => registry.statuses().every((s) => s.state === "ready"), 15_000);
  });
  after(() => registry?.close(1000));

  test("a crash mid-call fails the call with server_unavailable; the server is restarted and the next call works", async () => {
    const err = await failureOf(registry.call("crash__crash", {}, { signal: neverAborted() }));
    assert.equal(err.kind, "server_unavailable");
    assert.equal(err.server, "crash");
    const status = await waitFor("crash restarted", () => {
      const s = statusOf(registry, "crash");
      return s.state === "ready" && s.restarts === 1 ? s : undefined;
    });
    assert.ok(status.lastError);
    const result = await registry.call("crash__echo", { message: "after the restart" }, { signal: neverAborted() });
    assert.equal(textOf(result), "after the restart");
    assert.deepEqual(met.up.filter(([s]) => s === "crash").map(([, u]) => u), [false, true, false, true]);
    assert.ok(met.calls.some(([s, t, o]) => s === "crash" && t === "crash" && o === "server_unavailable"));
  });

  test("a helper process a server started is ended when the server crashes", async () => {
    const helper = Number(textOf(await registry.call("crash__spawn_helper", {}, { signal: neverAborted() })));
    assert.ok(isRunning(helper));
    // The tree is noted again after every answered ping.
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST.pingIntervalMs));
    const restarts = statusOf(registry, "crash").restarts;
    await failureOf(registry.call("crash__crash", {}, { signal: neverAborted() }));
    await waitFor("crash restarted again", () => statusOf(registry, "crash").restarts > restarts && statusOf(registry, "crash").state === "ready");
    await waitFor("the helper ended", () => !isRunning(helper), 5000);
  });

  test("a hanging call times out after toolTimeoutMs and is cancelled on the server", async () => {
    const err = await failureOf(registry.call("hang__hang", {}, { signal: neverAborted() }));
    assert.equal(err.kind, "timeout");
    await waitFor("the server saw notifications/cancelled", () => rec.entries.some((e) => e.obj.mcpServer === "hang" && /cancelled request/.test(String(e.obj.line))));
    assert.ok(met.calls.some(([s, , o]) => s === "hang" && o === "timeout"));
  });

  test("a call whose signal aborts fails as cancelled and is cancelled on the server", async () => {
    const before = rec.entries.filter((e) => /cancelled request/.test(String(e.obj.line))).length;
    const abort = new AbortController();
    setTimeout(() => abort.abort(new Error("the client left")), 50);
    const err = await failureOf(registry.call("hang__hang", {}, { signal: abort.signal }));
    assert.equal(err.kind, "cancelled");
    await waitFor("a second cancellation seen", () => rec.entries.filter((e) => /cancelled request/.test(String(e.obj.line))).length > before);
    const result = await registry.call("hang__echo", { message: "still here" }, { signal: neverAborted() });
    assert.equal(textOf(result), "still here");
    const already = new AbortController();
    already.abort();
    assert.equal((await failureOf(registry.call("hang__echo", { message: "x" }, { signal: already.signal }))).kind, "cancelled");
  });

  test("garbage on stdout is logged within a budget; the server keeps working", async () => {
    assert.ok(rec.entries.some((e) => e.obj.mcpServer === "garbage" && e.msg === "MCP server protocol error"), "the garbage at start was logged");
    const result = await registry.call("garbage__flood", { count: 5000 }, { signal: neverAborted() });
    assert.equal(textOf(result), "wrote 5000");
    await waitFor("the suppressed count", () => rec.entries.some((e) => e.obj.mcpServer === "garbage" && typeof e.obj.suppressed === "number"), 3000);
    const logged = rec.entries.filter((e) => e.obj.mcpServer === "garbage" && e.msg === "MCP server protocol error").length;
    assert.ok(logged <= 30, `${logged} protocol error lines logged for 5001 bad lines`);
    const echo = await registry.call("garbage__echo", { message: "fine" }, { signal: neverAborted() });
    assert.equal(textOf(echo), "fine");
    assert.equal(statusOf(registry, "garbage").restarts, 0);
  });

  test("notifications/tools/list_changed: listeners are called and tools() shows the new tool", async () => {
    const before = changes;
    assert.equal(registry.find("changer__added_later"), undefined);
    await registry.call("changer__add_tool", { name: "added_later" }, { signal: neverAborted() });
    await waitFor("the new tool", () => registry.tools(["changer"]).some((t) => t.name === "changer__added_later"));
    assert.ok(changes > before);
    const result = await registry.call("changer__added_later", {}, { signal: neverAborted() });
    assert.equal(textOf(result), "I am added_later");
  });
});

test("a stdio server that stops answering (SIGSTOP) is restarted after missed pings", async () => {
  const marker = `${MARKER.MCPGW_TEST_MARKER}-stopped`;
  const registry = createMcpRegistry(
    { log: recordingLog().log, metrics: recordingMetrics().metrics, servers: [stdio("frozen", [fixture("env-server")], { env: { MCPGW_TEST_MARKER: marker } })] },
    { ...FAST, pingTimeoutMs: 100, maxMissedPings: 2, restartGraceMs: 200 },
  );
  try {
    registry.start();
    await waitFor("frozen ready", () => registry.statuses()[0]!.state === "ready");
    const [pid] = markedProcesses(marker);
    process.kill(pid!, "SIGSTOP");
    const status = await waitFor("restarted", () => (registry.statuses()[0]!.restarts >= 1 && registry.statuses()[0]!.state === "ready" ? registry.statuses()[0] : undefined));
    assert.match(status.lastError ?? "", /pings in a row went unanswered/);
    assert.equal(isRunning(pid!), false, "the frozen process was killed");
    assert.equal(textOf(await registry.call("frozen__echo", { message: "thawed" }, { signal: neverAborted() })), "thawed");
  } finally {
    await registry.close(500);
  }
});

describe("servers that never come up", () => {
  let registry: McpRegistry;
  const rec = recordingLog();
  const SECRET = "quitter-secret-value-0123456789";

  before(() => {
    registry = createMcpRegistry(
      {
        log: rec.log,
        metrics: recordingMetrics().metrics,
        servers: [
          stdio("missing", [], { command: "/nonexistent/mcp-server", required: true }),
          stdio("quitter", ["-e", "console.error('cannot start: token ' + process.env.QUITTER_TOKEN); process.exit(1)"], { env: { QUITTER_TOKEN: SECRET } }),
          stdio("fine", [fixture("env-server")]),
        ],
      },
      FAST,
    );
    registry.start();
  });
  after(() => registry?.close(1000));

  test("they fail with lastError and are retried with backoff; the others are unaffected", async () => {
    await waitFor("fine ready", () => statusOf(registry, "fine").state === "ready");
    await waitFor("retries", () => statusOf(registry, "missing").restarts >= 2 && statusOf(registry, "quitter").restarts >= 2, 5000);
    const missing = statusOf(registry, "missing");
    assert.notEqual(missing.state, "ready");
    assert.match(missing.lastError ?? "", /ENOENT/);
    const quitter = statusOf(registry, "quitter");
    assert.match(quitter.lastError ?? "", /cannot start: token \[redacted\]/);
    assert.equal(registry.requiredReady(), false, "a required server is down");
    assert.equal(textOf(await registry.call("fine__echo", { message: "ok" }, { signal: neverAborted() })), "ok");
    assert.equal(rec.text().includes(SECRET), false, "the env value is in no log line");
  });
});

test("a server's environment: PATH, HOME, LANG, TMPDIR and its configured env, nothing else of the gateway's", async () => {
  const FAKE_KEY = "sk-fake-upstream-key-must-not-reach-mcp";
  Object.assign(process.env, { OPENAI_API_KEY: FAKE_KEY, UPSTREAM_KEY: FAKE_KEY, USER: "someone", SHELL: "/bin/sh", TERM: "dumb", LOGNAME: "someone" });
  process.env.LANG ??= "C.UTF-8";
  process.env.TMPDIR ??= tmpdir();
  const registry = createMcpRegistry({ log: recordingLog().log, metrics: recordingMetrics().metrics, servers: [stdio("env", [fixture("env-server")], { env: { SETTING: "configured" } })] });
  try {
    registry.start();
    await waitFor("env ready", () => registry.statuses()[0]!.state === "ready");
    const env = JSON.parse(textOf(await registry.call("env__env", {}, { signal: neverAborted() }))) as Record<string, string>;
    const inherited = ["PATH", "HOME", "LANG", "TMPDIR"].filter((k) => process.env[k] !== undefined);
    assert.deepEqual(Object.keys(env).sort(), [...inherited, "SETTING", "MCPGW_TEST_MARKER"].sort());
    assert.equal(env.SETTING, "configured");
    assert.equal(env.PATH, process.env.PATH);
    assert.equal(JSON.stringify(env).includes(FAKE_KEY), false);
  } finally {
    await registry.close(1000);
  }
});

test("lastError never shows a configured header value, even when the server echoes it", async () => {
  const TOKEN = "header-secret-token-0123456789";
  // A "server" that answers initialize with 500 and the Authorization header in the body.
  const echoing: Server = createServer((req, res) => res.writeHead(500).end(`bad credentials: ${req.headers.authorization}`));
  await new Promise<void>((resolve) => echoing.listen(0, "127.0.0.1", resolve));
  const { port } = echoing.address() as { port: number };
  const rec = recordingLog();
  const registry = createMcpRegistry(
    { log: rec.log, metrics: recordingMetrics().metrics, servers: [http("remote", "streamable-http", `http://127.0.0.1:${port}/mcp`, { headers: { Authorization: `Bearer ${TOKEN}` } })] },
    FAST,
  );
  try {
    registry.start();
    const status = await waitFor("a failure", () => (registry.statuses()[0]!.lastError ? registry.statuses()[0] : undefined));
    assert.match(status.lastError!, /500|bad credentials/);
    assert.equal(status.lastError!.includes(TOKEN), false, status.lastError);
    assert.equal(rec.text().includes(TOKEN), false);
  } finally {
    await registry.close(500);
    await new Promise((resolve) => echoing.close(resolve));
  }
});

describe("close()", () => {
  test("SIGTERM, then SIGKILL after the grace period, for a server and its child that ignore SIGTERM", async () => {
    const marker = `${MARKER.MCPGW_TEST_MARKER}-stubborn`;
    const rec = recordingLog();
    // sh stays the parent (a command follows), so the stubborn server is a grandchild, as under npx.
    const registry = createMcpRegistry({
      log: rec.log,
      metrics: recordingMetrics().metrics,
      servers: [stdio("stubborn", ["-c", `'${process.execPath}' '${fixture("stubborn-server")}'; exit 0`], { command: "sh", env: { MCPGW_TEST_MARKER: marker } })],
    });
    registry.start();
    await waitFor("stubborn ready", () => registry.statuses()[0]!.state === "ready");
    const tree = markedProcesses(marker);
    assert.equal(tree.length, 2, "sh and the server");
    const start = performance.now();
    await registry.close(400);
    const ms = performance.now() - start;
    assert.deepEqual(markedProcesses(marker), []);
    assert.ok(rec.entries.some((e) => /got SIGTERM, ignoring it/.test(String(e.obj.line))), "it was asked with SIGTERM first");
    assert.ok(ms >= 400, `killed before the grace period was over (${ms} ms)`);
    assert.equal(registry.statuses()[0]!.state, "stopped");
  });

  test("close() during connecting and during backoff ends everything and stays closed", async () => {
    const marker = `${MARKER.MCPGW_TEST_MARKER}-early`;
    const registry = createMcpRegistry(
      {
        log: recordingLog().log,
        metrics: recordingMetrics().metrics,
        servers: [
          stdio("slow", ["-e", "setInterval(() => {}, 1000)"], { env: { MCPGW_TEST_MARKER: marker } }),
          stdio("missing", [], { command: "/nonexistent/mcp-server" }),
        ],
      },
      { ...FAST, connectTimeoutMs: 60_000 },
    );
    registry.start();
    await waitFor("the slow one spawned", () => markedProcesses(marker).length === 1);
    await registry.close(300);
    assert.deepEqual(markedProcesses(marker), []);
    assert.deepEqual(registry.statuses().map((s) => s.state), ["stopped", "stopped"]);
    await new Promise((resolve) => setTimeout(resolve, 3 * FAST.initialBackoffMs));
    assert.deepEqual(markedProcesses(marker), [], "nothing was spawned again after close");
  });
});
