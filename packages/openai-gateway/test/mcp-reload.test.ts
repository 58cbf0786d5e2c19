/**
 * Reloading mcpServers. The registry's update(): servers added, removed (their process tree ended),
 * changed (restarted) and unchanged (untouched, same pid); calls in flight on a server that goes;
 * updates during backoff and connecting, one at a time. The gateway process: SIGHUP and --watch
 * read the config files again; a config that does not load is rejected with a message naming the
 * field and the running servers stay; a gateway started without servers gets some.
 */
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { configFor, SERVER_EVERYTHING, startGateway, type GatewayProcess } from "@mcpgw/test-support";
import { createMcpRegistry } from "../src/mcp/clients/registry.ts";
import { serverChanges } from "../src/mcp/clients/server-changes.ts";
import type { McpRegistry, McpServerConfig } from "../src/mcp/clients/types.ts";
import { ToolCallFailure } from "../src/mcp/clients/types.ts";
import { fixture, isRunning, killMarkedProcesses, MARKER, markedProcesses, neverAborted, recordingLog, recordingMetrics, stdio, textOf, waitFor } from "./fixtures/registry-harness.ts";

const FAST = { initialBackoffMs: 100, maxBackoffMs: 400, pingIntervalMs: 100 };
const T = { timeout: 30_000 };
const NOTHING = { added: [], removed: [], restarted: [] };

after(killMarkedProcesses);

/** A marker per server name, so that each one's processes are found by pid. */
const markerOf = (name: string) => `${MARKER.MCPGW_TEST_MARKER}-reload-${name}`;
/** The fixture with an `echo` tool, under `name`, with its own marker. */
const echoServer = (name: string, extra: { args?: string[]; toolTimeoutMs?: number } = {}): McpServerConfig =>
  stdio(name, [fixture("hang-server"), ...(extra.args ?? [])], { env: { MCPGW_TEST_MARKER: markerOf(name) }, ...(extra.toolTimeoutMs ? { toolTimeoutMs: extra.toolTimeoutMs } : {}) });
const pidOf = (name: string): number => {
  const pids = markedProcesses(markerOf(name));
  assert.equal(pids.length, 1, `${name}: one process, found ${pids.join(", ") || "none"}`);
  return pids[0]!;
};
const allReady = (registry: McpRegistry) => registry.statuses().every((s) => s.state === "ready");
const failureOf = async (p: Promise<unknown>): Promise<ToolCallFailure> => {
  const err = await p.then(() => assert.fail("expected the call to fail"), (e: unknown) => e);
  assert.ok(err instanceof ToolCallFailure, `not a ToolCallFailure: ${err}`);
  return err;
};

describe("what counts as a change", () => {
  const base = stdio("s", ["server.js"], { env: { A: "1", B: "2" } });
  const t = base.transport as Extract<McpServerConfig["transport"], { type: "stdio" }>;
  const remote: McpServerConfig = { ...base, transport: { type: "streamable-http", url: "http://127.0.0.1:1/mcp", headers: { X: "1" } } };

  test("equal settings are no change, whatever the order of env keys; a new or missing name is added or removed", () => {
    const reordered: McpServerConfig = { ...base, transport: { ...t, env: { B: "2", ...t.env } } };
    assert.deepEqual(serverChanges([base], [reordered]), NOTHING);
    assert.deepEqual(serverChanges([base, { ...base, name: "old" }], [base, { ...base, name: "b" }, { ...base, name: "a" }]), { added: ["a", "b"], removed: ["old"], restarted: [] });
  });

  test("any setting that differs restarts the server", () => {
    const variants: [string, McpServerConfig, McpServerConfig][] = [
      ["command", base, { ...base, transport: { ...t, command: "other" } }],
      ["args", base, { ...base, transport: { ...t, args: ["server.js", "--flag"] } }],
      ["args order", { ...base, transport: { ...t, args: ["a", "b"] } }, { ...base, transport: { ...t, args: ["b", "a"] } }],
      ["env", base, { ...base, transport: { ...t, env: { ...t.env, B: "3" } } }],
      ["cwd", base, { ...base, transport: { ...t, cwd: "/tmp" } }],
      ["transport", base, remote],
      ["url", remote, { ...remote, transport: { type: "streamable-http", url: "http://127.0.0.1:2/mcp", headers: { X: "1" } } }],
      ["headers", remote, { ...remote, transport: { type: "streamable-http", url: "http://127.0.0.1:1/mcp", headers: { X: "2" } } }],
      ["sse", remote, { ...remote, transport: { type: "sse", url: "http://127.0.0.1:1/mcp", headers: { X: "1" } } }],
      ["disabledTools", base, { ...base, disabledTools: ["echo"] }],
      ["toolTimeoutMs", base, { ...base, toolTimeoutMs: 5 }],
      ["required", base, { ...base, required: true }],
    ];
    for (const [what, before, after] of variants) assert.deepEqual(serverChanges([before], [after]), { ...NOTHING, restarted: ["s"] }, what);
  });
});

describe("registry update()", () => {
  test("added servers connect, removed ones end, a changed one restarts with its tools, an unchanged one keeps its process", T, async () => {
    const registry = createMcpRegistry({ log: recordingLog().log, metrics: recordingMetrics().metrics, servers: [echoServer("keep"), echoServer("change"), echoServer("drop")] }, FAST);
    let changes = 0;
    registry.onToolsChanged(() => changes++);
    try {
      registry.start();
      await waitFor("every server ready", () => allReady(registry));
      const [keep, change, drop] = [pidOf("keep"), pidOf("change"), pidOf("drop")];
      const heard = changes;

      const next = [echoServer("keep"), echoServer("change", { args: ["--restarted"] }), echoServer("add")];
      assert.deepEqual(await registry.update(next, 1000), { added: ["add"], removed: ["drop"], restarted: ["change"] });
      assert.equal(isRunning(drop), false, "the removed server's process ended");
      assert.equal(isRunning(change), false, "the changed server's old process ended");
      assert.deepEqual(markedProcesses(markerOf("drop")), []);
      assert.ok(changes > heard, "tools-changed listeners heard of it");
      assert.deepEqual(registry.statuses().map((s) => s.name), ["keep", "change", "add"]);
      assert.equal(registry.find("drop__echo"), undefined);
      assert.equal((await failureOf(registry.call("drop__echo", { message: "x" }, { signal: neverAborted() }))).kind, "unknown_tool");

      await waitFor("the new servers ready", () => allReady(registry));
      assert.equal(pidOf("keep"), keep, "the unchanged server kept its process");
      assert.notEqual(pidOf("change"), change, "the changed server runs in a new process");
      assert.equal(registry.statuses().find((s) => s.name === "keep")!.restarts, 0);
      for (const name of ["keep", "change", "add"]) {
        assert.equal(textOf(await registry.call(`${name}__echo`, { message: `via ${name}` }, { signal: neverAborted() })), `via ${name}`);
      }
      assert.deepEqual(registry.tools(["*"]).map((t) => t.name), ["add__echo", "add__hang", "change__echo", "change__hang", "keep__echo", "keep__hang"]);

      const pids = [pidOf("keep"), pidOf("change"), pidOf("add")];
      assert.deepEqual(await registry.update(next.map((s) => structuredClone(s)), 1000), NOTHING, "the same config again changes nothing");
      assert.deepEqual([pidOf("keep"), pidOf("change"), pidOf("add")], pids);
    } finally {
      await registry.close(1000);
    }
    assert.deepEqual(markedProcesses(markerOf("keep")), []);
    assert.deepEqual(markedProcesses(markerOf("add")), []);
  });

  test("calls in flight on a removed and on a restarted server fail with server_unavailable; one made while it restarts too", T, async () => {
    const registry = createMcpRegistry({ log: recordingLog().log, metrics: recordingMetrics().metrics, servers: [echoServer("gone"), echoServer("moved")] }, FAST);
    try {
      registry.start();
      await waitFor("both ready", () => allReady(registry));
      const onGone = failureOf(registry.call("gone__hang", {}, { signal: neverAborted() }));
      const onMoved = failureOf(registry.call("moved__hang", {}, { signal: neverAborted() }));
      const updating = registry.update([echoServer("moved", { toolTimeoutMs: 5000 })], 1000);
      await new Promise((resolve) => setImmediate(resolve));
      // While the old process closes, the restarted server's tools keep their names: not unknown_tool.
      const meanwhile = await failureOf(registry.call("moved__echo", { message: "x" }, { signal: neverAborted() }));
      assert.equal(meanwhile.kind, "server_unavailable");
      assert.deepEqual(await updating, { added: [], removed: ["gone"], restarted: ["moved"] });
      for (const err of [await onGone, await onMoved]) assert.equal(err.kind, "server_unavailable", err.message);
      await waitFor("moved ready again", () => allReady(registry));
      assert.equal(textOf(await registry.call("moved__echo", { message: "back" }, { signal: neverAborted() })), "back");
    } finally {
      await registry.close(1000);
    }
  });

  test("updates while servers connect or back off, one at a time; after close() an update starts nothing", T, async () => {
    const slow = stdio("slow", ["-e", "setInterval(() => {}, 1000)"], { env: { MCPGW_TEST_MARKER: markerOf("slow") } });
    const missing = stdio("missing", [], { command: "/nonexistent/mcp-server" });
    const registry = createMcpRegistry({ log: recordingLog().log, metrics: recordingMetrics().metrics, servers: [slow, missing] }, { ...FAST, connectTimeoutMs: 60_000 });
    try {
      registry.start();
      await waitFor("slow connecting, missing backing off", () => markedProcesses(markerOf("slow")).length === 1 && registry.statuses()[1]!.restarts >= 1);
      // Not awaited in between: the second diffs against what the first left, not against the start.
      const first = registry.update([echoServer("fine")], 500);
      const second = registry.update([echoServer("fine"), echoServer("missing")], 500);
      assert.deepEqual(await first, { added: ["fine"], removed: ["missing", "slow"], restarted: [] });
      assert.deepEqual(await second, { added: ["missing"], removed: [], restarted: [] });
      assert.deepEqual(markedProcesses(markerOf("slow")), [], "the connecting server's process ended");
      await waitFor("fine and the new missing ready", () => allReady(registry));
      assert.deepEqual(registry.statuses().map((s) => [s.name, s.restarts]), [["fine", 0], ["missing", 0]]);
    } finally {
      await registry.close(500);
    }
    assert.deepEqual(await registry.update([echoServer("late")], 500), NOTHING);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(markedProcesses(markerOf("late")), [], "nothing spawned after close");
    assert.deepEqual(markedProcesses(markerOf("missing")), []);
  });
});

describe("the gateway process: SIGHUP and --watch", () => {
  const dir = mkdtempSync(join(tmpdir(), "gw-reload-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const UPSTREAM = { UPSTREAM_KEY: "sk-reload-upstream-key-0123456789" };
  // No upstream is asked anything here: a port nothing listens on.
  const withServers = (mcpServers: object | undefined) => configFor("http://127.0.0.1:9/v1", mcpServers ? { mcpServers } : {});
  const everything = (name: string) => ({ command: process.execPath, args: [SERVER_EVERYTHING, "stdio"], env: { MCPGW_TEST_MARKER: markerOf(name) } });

  interface Ready {
    mcpServers?: { name: string; state: string }[];
  }
  const ready = async (gw: GatewayProcess) => (await (await fetch(`${gw.origin}/ready`)).json()) as Ready;
  /** Polls /ready until the ready servers are exactly `names`, in order. */
  const readyServers = async (gw: GatewayProcess, names: string[]) => {
    let last: Ready = {};
    const deadline = performance.now() + 15_000;
    for (;;) {
      last = await ready(gw);
      const servers = last.mcpServers ?? [];
      if (servers.every((s) => s.state === "ready") && servers.map((s) => s.name).join() === names.join()) return;
      if (performance.now() > deadline) assert.fail(`/ready never listed ${names.join(", ")} ready: ${JSON.stringify(last)}\n${gw.lines.join("\n")}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  /** Waits for the nth log line (from 1) that matches. */
  const logLine = (gw: GatewayProcess, pattern: RegExp, nth = 1) =>
    waitFor(`log line ${pattern} #${nth}`, () => gw.lines.filter((l) => pattern.test(l))[nth - 1], 15_000);
  const stopped = async (gw: GatewayProcess) => assert.equal(await gw.stop(), 0);

  test("SIGHUP: a server added, one removed (its process ended), an invalid config rejected while the running servers stay", T, async () => {
    const gw = await startGateway({ env: UPSTREAM, config: withServers({ first: everything("first") }) });
    try {
      await readyServers(gw, ["first"]);
      const first = pidOf("first");

      writeFileSync(gw.configFile!, JSON.stringify(withServers({ first: everything("first"), second: everything("second") })));
      gw.proc.kill("SIGHUP");
      await readyServers(gw, ["first", "second"]);
      const added = JSON.parse(await logLine(gw, /config reloaded/));
      assert.deepEqual([added.added, added.removed, added.restarted], [["second"], [], []]);
      assert.match(added.msg, /added second; removed none; restarted none .*other settings need a restart/);
      assert.equal(pidOf("first"), first, "the unchanged server kept its process");

      writeFileSync(gw.configFile!, JSON.stringify(withServers({ second: everything("second") })));
      gw.proc.kill("SIGHUP");
      assert.deepEqual(JSON.parse(await logLine(gw, /config reloaded/, 2)).removed, ["first"]);
      assert.equal(isRunning(first), false, "the removed server's process ended");
      assert.deepEqual(markedProcesses(markerOf("first")), []);
      await readyServers(gw, ["second"]);

      const second = pidOf("second");
      writeFileSync(gw.configFile!, JSON.stringify(withServers({ second: { ...everything("second"), command: 5 } })));
      gw.proc.kill("SIGHUP");
      const rejected = JSON.parse(await logLine(gw, /config reload rejected/));
      assert.equal(rejected.level, 50, "logged at error");
      assert.match(rejected.msg, /mcpServers\.second\.command/);
      await readyServers(gw, ["second"]);
      assert.equal(pidOf("second"), second, "the running server stays");
      assert.equal(gw.proc.exitCode, null, "the gateway keeps running");
    } finally {
      await stopped(gw);
    }
    assert.deepEqual(markedProcesses(markerOf("second")), [], "no MCP server outlives the gateway");
  });

  test("--watch, started without any MCP server: a replaced config file and an edited --mcp-config file are picked up without a signal", T, async () => {
    const mcpFile = join(dir, "mcp.json");
    writeFileSync(mcpFile, JSON.stringify({ mcpServers: {} }));
    const gw = await startGateway({ env: UPSTREAM, config: withServers(undefined), args: ["--watch", "--mcp-config", mcpFile] });
    try {
      assert.equal((await ready(gw)).mcpServers, undefined, "no MCP servers at start");
      // As editors save: a new file renamed over the old one.
      const replacement = join(dirname(gw.configFile!), ".gateway.json.swp");
      writeFileSync(replacement, JSON.stringify(withServers({ watched: everything("watched") })));
      renameSync(replacement, gw.configFile!);
      await readyServers(gw, ["watched"]);
      const line = JSON.parse(await logLine(gw, /config reloaded/));
      assert.equal(line.trigger, "watch");
      assert.deepEqual(line.added, ["watched"]);

      writeFileSync(mcpFile, JSON.stringify({ mcpServers: { edited: everything("edited") } }));
      await readyServers(gw, ["watched", "edited"]);
      // One reload per save, not one per file system event.
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(gw.lines.filter((l) => /config reloaded/.test(l)).length, 2, gw.lines.filter((l) => /config reload/.test(l)).join("\n"));
    } finally {
      await stopped(gw);
    }
    assert.deepEqual([...markedProcesses(markerOf("watched")), ...markedProcesses(markerOf("edited"))], []);
  });
});
