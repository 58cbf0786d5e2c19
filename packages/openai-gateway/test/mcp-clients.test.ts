/**
 * The MCP registry against real MCP servers nobody here wrote (server-everything over stdio,
 * Streamable HTTP and SSE; server-memory; server-filesystem on a temp folder), plus the pure parts:
 * public tool names, selectors, the reconnect backoff. Faults live in mcp-faults.test.ts.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { SERVER_EVERYTHING } from "@mcpgw/test-support";
import { createMcpRegistry } from "../src/mcp/clients/registry.ts";
import { LINES_PER_SECOND, logStderrLines, MAX_LINE } from "../src/mcp/clients/stderr-lines.ts";
import { DEFAULT_TIMING, reconnectDelay } from "../src/mcp/clients/supervision-timing.ts";
import type { McpRegistry } from "../src/mcp/clients/types.ts";
import { ToolCallFailure } from "../src/mcp/clients/types.ts";
import { matchesSelector } from "../src/mcp/selectors.ts";
import { checkServerNames, publicToolNames, sanitizeName } from "../src/mcp/tool-names.ts";
import {
  binOf,
  fixture,
  http,
  killMarkedProcesses,
  MARKER,
  markedProcesses,
  neverAborted,
  PACKAGE_DIR,
  recordingLog,
  recordingMetrics,
  startEverythingHttp,
  stdio,
  textOf,
  waitFor,
  type HttpServer,
} from "./fixtures/registry-harness.ts";

const NAME_RULE = /^[a-zA-Z0-9_-]{1,64}$/;

after(killMarkedProcesses);

describe("public tool names", () => {
  const names = (refs: { server: string; tool: string }[]) => [...publicToolNames(refs).keys()];

  test("server__tool as it is when it already fits the rule", () => {
    assert.deepEqual(names([{ server: "everything", tool: "get-sum" }]), ["everything__get-sum"]);
  });

  test("characters outside [a-zA-Z0-9_-] become _", () => {
    assert.equal(sanitizeName("my.server/tool name:é"), "my_server_tool_name__");
    assert.deepEqual(names([{ server: "my.server", tool: "read file" }]), ["my_server__read_file"]);
  });

  test("a long name is shortened to 64 with a stable hash of server\\0tool, and maps back", () => {
    const ref = { server: "s", tool: "x".repeat(100) };
    const map = publicToolNames([ref]);
    const [name] = map.keys();
    assert.match(name!, NAME_RULE);
    assert.equal(name!.length, 64);
    assert.match(name!, /^s__x+_[0-9a-f]{6}$/);
    assert.deepEqual(map.get(name!), ref);
    // The same tool gets the same name whatever else is listed.
    assert.ok(names([{ server: "a", tool: "b" }, ref]).includes(name!));
    assert.notEqual(names([{ server: "s", tool: "x".repeat(101) }])[0], name);
  });

  test("tools that collide after rewriting all get distinct hashed names, in any order", () => {
    const refs = [
      { server: "srv", tool: "a.b" },
      { server: "srv", tool: "a_b" },
      { server: "srv", tool: "a b" },
      { server: "srv", tool: "other" },
    ];
    const forward = publicToolNames(refs);
    const backward = publicToolNames([...refs].reverse());
    assert.deepEqual(new Map([...forward].sort()), new Map([...backward].sort()));
    assert.equal(forward.size, 4);
    assert.ok(forward.has("srv__other"));
    for (const [name, ref] of forward) {
      assert.match(name, NAME_RULE);
      if (ref.tool !== "other") assert.match(name, /^srv__a_b_[0-9a-f]{6}$/);
    }
  });

  test("a tool literally named like another's hashed name still gets a name of its own", () => {
    const hashed = [...publicToolNames([{ server: "s", tool: "a.b" }, { server: "s", tool: "a_b" }]).keys()][0]!;
    const lookalike = { server: "s", tool: hashed.slice("s__".length) };
    const map = publicToolNames([{ server: "s", tool: "a.b" }, { server: "s", tool: "a_b" }, lookalike]);
    assert.equal(map.size, 3);
    assert.equal(map.get(hashed)?.tool === lookalike.tool, false);
  });

  test("checkServerNames names both servers whose names rewrite alike", () => {
    assert.equal(checkServerNames(["everything", "memory", "fs-1"]), undefined);
    const clash = checkServerNames(["everything", "my.server", "my_server"]);
    assert.match(clash ?? "", /"my\.server" and "my_server"/);
  });
});

describe("selectors", () => {
  const cases: [string, string, string, boolean][] = [
    ["*", "any", "thing", true],
    ["github", "github", "search_issues", true],
    ["github", "gitlab", "search_issues", false],
    ["github/search_issues", "github", "search_issues", true],
    ["github/search_issues", "github", "search_code", false],
    ["github/search*", "github", "search_code", true],
    ["github/search*", "github", "get_issue", false],
    ["github/search*", "other", "search_code", false],
    ["github/*", "github", "anything", true],
    ["git", "github", "x", false],
  ];
  for (const [selector, server, tool, expected] of cases) {
    test(`${selector} ${expected ? "grants" : "does not grant"} ${server}/${tool}`, () => {
      assert.equal(matchesSelector(selector, server, tool), expected);
    });
  }
});

test("reconnect backoff: 1 s doubling to 30 s, within ±20% jitter", () => {
  for (const [failures, base] of [[0, 1000], [1, 2000], [2, 4000], [4, 16_000], [5, 30_000], [50, 30_000]] as const) {
    assert.equal(reconnectDelay(failures, DEFAULT_TIMING, () => 0.5), base);
    assert.equal(reconnectDelay(failures, DEFAULT_TIMING, () => 0), base * 0.8);
    assert.ok(reconnectDelay(failures, DEFAULT_TIMING, () => 0.999) <= 30_000);
  }
});

describe("a stdio server's stderr in the log", () => {
  const feed = async (chunks: string[]) => {
    const rec = recordingLog();
    const stream = new PassThrough();
    const lines = logStderrLines(stream, "srv", rec.log, (s) => s.replaceAll("hunter2-password", "[redacted]"));
    for (const c of chunks) stream.write(c);
    stream.end();
    await new Promise((resolve) => setImmediate(resolve));
    return { rec, lines };
  };

  test("line by line across chunks, tagged, scrubbed; the last line kept", async () => {
    const { rec, lines } = await feed(["first li", "ne\r\nsecond hunter2-password\n\n", "third without newline"]);
    assert.deepEqual(rec.entries.map((e) => [e.level, e.obj.mcpServer, e.obj.line]), [
      ["info", "srv", "first line"],
      ["info", "srv", "second [redacted]"],
      ["info", "srv", "third without newline"],
    ]);
    assert.equal(lines.lastLine(), "third without newline");
  });

  test("a long line is clipped (once, even across chunks); a flood is cut to a budget and counted", async () => {
    const { rec } = await feed(["x".repeat(MAX_LINE * 2), "y".repeat(MAX_LINE * 3), "z\nshort\n", ..."n\n".repeat(500).match(/n\n/g)!]);
    const logged = rec.entries.filter((e) => e.msg === "MCP server stderr");
    assert.ok(String(logged[0]!.obj.line).startsWith("x".repeat(MAX_LINE)));
    assert.ok(String(logged[0]!.obj.line).length < MAX_LINE + 40);
    assert.equal(logged[1]!.obj.line, "short");
    assert.equal(logged.length, LINES_PER_SECOND);
    const summary = rec.entries.find((e) => e.obj.suppressed !== undefined);
    assert.equal(summary?.obj.suppressed, 502 - LINES_PER_SECOND);
  });
});

test("importing the registry and starting it without servers does not load the MCP SDK", async () => {
  const script = `
    import { registerHooks } from "node:module";
    const seen = [];
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.push(r.url); return r; } });
    const { createMcpRegistry } = await import(${JSON.stringify(new URL("../src/mcp/clients/registry.ts", import.meta.url).href)});
    const registry = createMcpRegistry({ servers: [], log: console, metrics: { serverUp() {}, toolCall() {} } });
    registry.start();
    await registry.close(100);
    console.log(JSON.stringify(seen.filter((u) => u.includes("@modelcontextprotocol"))));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { timeout: 10_000 });
  assert.deepEqual(JSON.parse(stdout), []);
});

describe("stdio servers from npm: server-everything, server-memory, server-filesystem; a paginated list", () => {
  let registry: McpRegistry;
  let dir: string;
  const rec = recordingLog();
  const met = recordingMetrics();
  let changes = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "mcp-clients-"));
    writeFileSync(join(dir, "note.txt"), "hello from the temp folder\n");
    registry = createMcpRegistry({
      log: rec.log,
      metrics: met.metrics,
      servers: [
        stdio("everything", [SERVER_EVERYTHING, "stdio"], { disabledTools: ["get-env"], required: true }),
        stdio("memory", [binOf("@modelcontextprotocol/server-memory")], { env: { MEMORY_FILE_PATH: join(dir, "memory.jsonl") } }),
        stdio("fs", [binOf("@modelcontextprotocol/server-filesystem"), dir]),
        stdio("paged", [fixture("paged-server")]),
      ],
    });
    registry.onToolsChanged(() => changes++);
    assert.equal(registry.requiredReady(), false, "nothing is ready before start");
    registry.start();
    await waitFor("every server ready", () => registry.statuses().every((s) => s.state === "ready"), 20_000);
  });
  after(async () => {
    await registry?.close(2000);
    rmSync(dir, { recursive: true, force: true });
  });

  test("statuses show each server ready with its tool count; required servers are ready", () => {
    const byName = Object.fromEntries(registry.statuses().map((s) => [s.name, s]));
    assert.equal(byName.everything?.transport, "stdio");
    assert.ok(byName.everything!.tools >= 10);
    assert.equal(byName.paged?.tools, 5);
    assert.ok(registry.statuses().every((s) => s.restarts === 0 && s.lastError === undefined));
    assert.equal(registry.requiredReady(), true);
    assert.ok(changes >= 4, "a listener heard of every server's tools");
    assert.deepEqual(met.up.filter(([, u]) => u).map(([s]) => s).sort(), ["everything", "fs", "memory", "paged"]);
  });

  test("tools are offered as server__tool, within OpenAI's name rule, in a stable order", () => {
    const all = registry.tools(["*"]);
    const names = all.map((t) => t.name);
    assert.ok(names.includes("everything__echo"));
    assert.ok(names.includes("memory__create_entities"));
    assert.ok(names.includes("fs__read_text_file"));
    assert.ok(names.every((n) => NAME_RULE.test(n)));
    assert.deepEqual(names, [...names].sort());
    const echo = registry.find("everything__echo")!;
    assert.equal(echo.server, "everything");
    assert.equal(echo.tool, "echo");
    assert.equal(echo.inputSchema.type, "object");
  });

  test("every page of a paginated tools/list is followed", async () => {
    assert.deepEqual(registry.tools(["paged"]).map((t) => t.tool), ["tool_1", "tool_2", "tool_3", "tool_4", "tool_5"]);
    assert.equal(textOf(await registry.call("paged__tool_4", {}, { signal: neverAborted() })), "tool_4");
  });

  test("an answer that is not a tool result fails as protocol_error", async () => {
    const err = await registry.call("paged__tool_5", {}, { signal: neverAborted() }).catch((e) => e);
    assert.ok(err instanceof ToolCallFailure);
    assert.equal(err.kind, "protocol_error");
    assert.deepEqual(met.calls.at(-1), ["paged", "tool_5", "protocol_error"]);
  });

  test("selectors pick the tools; disabledTools are neither offered nor callable", async () => {
    assert.deepEqual(registry.tools([]), []);
    const gets = registry.tools(["everything/get-*"]);
    assert.ok(gets.length >= 3);
    assert.ok(gets.every((t) => t.server === "everything" && t.tool.startsWith("get-")));
    assert.deepEqual(registry.tools(["memory/read_graph", "paged/tool_2"]).map((t) => t.name), ["memory__read_graph", "paged__tool_2"]);
    assert.equal(registry.tools(["*"]).some((t) => t.tool === "get-env"), false);
    assert.equal(registry.find("everything__get-env"), undefined);
    const err = await registry.call("everything__get-env", {}, { signal: neverAborted() }).catch((e) => e);
    assert.ok(err instanceof ToolCallFailure);
    assert.equal(err.kind, "unknown_tool");
  });

  test("echo over stdio: the text comes back; one info line per call without the arguments", async () => {
    const secretish = "an argument that must not be logged at info";
    const result = await registry.call("everything__echo", { message: secretish }, { signal: neverAborted() });
    assert.equal(textOf(result), `Echo: ${secretish}`);
    assert.equal(result.isError, false);
    const lines = rec.entries.filter((e) => e.msg === "MCP tool call" && e.obj.tool === "echo");
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, "info");
    assert.equal(lines[0]!.obj.mcpServer, "everything");
    assert.equal(lines[0]!.obj.outcome, "ok");
    assert.equal(typeof lines[0]!.obj.ms, "number");
    assert.equal(rec.entries.filter((e) => e.level !== "debug").some((e) => JSON.stringify(e).includes(secretish)), false);
    assert.deepEqual(met.calls.at(-1), ["everything", "echo", "ok"]);
  });

  test("structuredContent comes back beside the text", async () => {
    const result = await registry.call("everything__get-structured-content", { location: "Chicago" }, { signal: neverAborted() });
    const data = result.structuredContent as { temperature: number; conditions: string };
    assert.equal(typeof data.temperature, "number");
    assert.equal(typeof data.conditions, "string");
  });

  test("progress notifications reach onProgress", async () => {
    const progress: { progress: number; total?: number }[] = [];
    const result = await registry.call(
      "everything__trigger-long-running-operation",
      { duration: 0.3, steps: 3 },
      { signal: neverAborted(), onProgress: (p) => progress.push(p) },
    );
    assert.match(textOf(result), /completed/);
    // The last step may be lost: the SDK handles a progress notification that arrives in the same
    // read as the response after it (typescript-sdk #2580). The earlier ones come 100 ms apart.
    assert.deepEqual(progress.slice(0, 2).map((p) => [p.progress, p.total]), [[1, 3], [2, 3]]);
    assert.ok(progress.length <= 3);
    assert.equal(rec.entries.some((e) => e.msg === "MCP server protocol error"), false, "the SDK's late-progress race is not logged as the server's error");
  });

  test("a server's own error result is returned with isError, as a tool_error", async () => {
    const result = await registry.call("fs__read_text_file", { path: "/etc/passwd" }, { signal: neverAborted() });
    assert.equal(result.isError, true);
    assert.match(textOf(result), /denied|outside|not allowed/i);
    assert.deepEqual(met.calls.at(-1), ["fs", "read_text_file", "tool_error"]);
  });

  test("server-filesystem reads a file of its temp folder; server-memory keeps an entity", async () => {
    const file = await registry.call("fs__read_text_file", { path: join(dir, "note.txt") }, { signal: neverAborted() });
    assert.equal(textOf(file).trim(), "hello from the temp folder");
    const entities = [{ name: "gateway", entityType: "program", observations: ["runs MCP servers"] }];
    await registry.call("memory__create_entities", { entities }, { signal: neverAborted() });
    const graph = await registry.call("memory__read_graph", {}, { signal: neverAborted() });
    assert.match(textOf(graph), /runs MCP servers/);
  });

  test("a call to an unknown name fails with unknown_tool, logged with the name clipped", async () => {
    const err = await registry.call(`nope__${"x".repeat(500)}`, {}, { signal: neverAborted() }).catch((e) => e);
    assert.ok(err instanceof ToolCallFailure);
    assert.equal(err.kind, "unknown_tool");
    const line = rec.entries.findLast((e) => e.obj.outcome === "unknown_tool")!;
    assert.ok(String(line.obj.tool).length < 200);
  });

  test("each server's stderr is in the log, line by line, tagged with its name", () => {
    const line = rec.entries.find((e) => e.obj.mcpServer === "everything" && e.msg === "MCP server stderr");
    assert.match(String(line?.obj.line), /Starting default \(STDIO\) server/);
  });
});

describe("server-everything over Streamable HTTP and SSE", () => {
  let streamable: HttpServer;
  let sse: HttpServer;
  let registry: McpRegistry;
  const rec = recordingLog();
  const met = recordingMetrics();

  before(async () => {
    [streamable, sse] = await Promise.all([startEverythingHttp("streamableHttp"), startEverythingHttp("sse")]);
    registry = createMcpRegistry(
      {
        log: rec.log,
        metrics: met.metrics,
        servers: [
          http("remote", "streamable-http", `http://127.0.0.1:${streamable.port}/mcp`),
          http("legacy", "sse", `http://127.0.0.1:${sse.port}/sse`),
          // What users paste for an SSE server when the docs only say "url": it is found out.
          http("sniffed", "streamable-http", `http://127.0.0.1:${sse.port}/sse`),
        ],
      },
      { pingIntervalMs: 150, pingTimeoutMs: 300, maxMissedPings: 2, initialBackoffMs: 100, maxBackoffMs: 400 },
    );
    registry.start();
    await waitFor("every HTTP server ready", () => registry.statuses().every((s) => s.state === "ready"), 15_000);
  });
  after(async () => {
    await registry?.close(1000);
    await Promise.all([streamable?.stop(), sse?.stop()]);
  });

  test("transports in use: streamable-http, sse, and sse found behind a streamable-http URL", () => {
    const byName = Object.fromEntries(registry.statuses().map((s) => [s.name, s.transport]));
    assert.deepEqual(byName, { remote: "streamable-http", legacy: "sse", sniffed: "sse" });
    assert.ok(registry.statuses().every((s) => s.tools >= 10));
  });

  test("echo and progress over each transport", async () => {
    for (const server of ["remote", "legacy", "sniffed"]) {
      const result = await registry.call(`${server}__echo`, { message: `via ${server}` }, { signal: neverAborted() });
      assert.equal(textOf(result), `Echo: via ${server}`);
    }
    const progress: number[] = [];
    await registry.call("remote__trigger-long-running-operation", { duration: 0.3, steps: 3 }, { signal: neverAborted(), onProgress: (p) => progress.push(p.progress) });
    // As over stdio, the step that comes with the response may be lost (typescript-sdk #2580).
    assert.deepEqual(progress.slice(0, 2), [1, 2]);
  });

  test("a Streamable HTTP server that goes away is reconnected once it is back (missed pings)", async () => {
    const port = streamable.port;
    await streamable.stop();
    await waitFor("remote seen down", () => registry.statuses().find((s) => s.name === "remote")?.state !== "ready", 5000);
    assert.equal(registry.tools(["remote"]).length, 0, "a server that is down offers no tools");
    const err = await registry.call("remote__echo", { message: "x" }, { signal: neverAborted() }).catch((e) => e);
    assert.equal(err.kind, "server_unavailable");
    streamable = await startEverythingHttp("streamableHttp", port);
    const status = await waitFor("remote ready again", () => registry.statuses().find((s) => s.name === "remote" && s.state === "ready"), 10_000);
    assert.ok(status.restarts >= 1);
    assert.ok(status.lastError);
    const result = await registry.call("remote__echo", { message: "back" }, { signal: neverAborted() });
    assert.equal(textOf(result), "Echo: back");
    assert.deepEqual(met.up.filter(([s]) => s === "remote").map(([, u]) => u), [false, true, false, true]);
  });
});

test("npx -y server-everything as users paste it: works, and close() leaves no process of its tree", async () => {
  const marker = `${MARKER.MCPGW_TEST_MARKER}-npx`;
  const registry = createMcpRegistry({
    log: recordingLog().log,
    metrics: recordingMetrics().metrics,
    servers: [
      // npx finds the local install without the network; the marker finds its processes.
      stdio("everything", ["-y", "@modelcontextprotocol/server-everything"], {
        command: "npx",
        env: { npm_config_offline: "true", MCPGW_TEST_MARKER: marker },
        cwd: PACKAGE_DIR,
      }),
    ],
  });
  try {
    registry.start();
    await waitFor("npx server ready", () => registry.statuses()[0]!.state === "ready", 30_000);
    const result = await registry.call("everything__echo", { message: "through npx" }, { signal: neverAborted() });
    assert.equal(textOf(result), "Echo: through npx");
    // npm exec -> sh -c -> node: at least npm and the node that serves.
    assert.ok(markedProcesses(marker).length >= 2, `npx's tree: ${markedProcesses(marker)}`);
  } finally {
    await registry.close(2000);
  }
  assert.deepEqual(markedProcesses(marker), []);
});
