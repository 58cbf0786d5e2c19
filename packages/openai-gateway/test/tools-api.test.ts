/**
 * MCP tools as REST endpoints (/tools), end to end: the gateway as a process with real MCP servers
 * behind it (@modelcontextprotocol/server-everything over stdio, and fixture servers that hang,
 * crash and change their tools). What is checked is what an mcpo or Open WebUI user sees: every
 * tool callable with its arguments as the JSON body, 422 naming the field a schema rejects, specs
 * that two OpenAPI validators accept, the Open WebUI tool-server flow, grants per key, and the
 * failures (timeout, a server down and back, a tool that reports an error, a client that leaves).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { validate as scalarValidate } from "@scalar/openapi-parser";
import { SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import { binOf, fixture, waitFor } from "./fixtures/registry-harness.ts";

const T = { timeout: 30_000 };
const KEYS = { all: "gw-tools-all-0123456789", echo: "gw-tools-echo-only-0123", none: "gw-tools-none-0123456789" };
const SECRET = "sk-tool-server-secret-value-0123456789";

type Spec = { openapi: string; info: { title: string }; servers: { url: string }[]; paths: Record<string, Record<string, { operationId?: string; requestBody?: unknown }>> };
type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

let gw: GatewayProcess;
/** The folder server-filesystem may use (real path: it compares resolved paths). */
const dir = realpathSync(mkdtempSync(join(tmpdir(), "gw-tools-fs-")));
/** The tools server-everything lists to the MCP SDK's own Client: what the specs must show. */
let everythingTools: { name: string; execution?: { taskSupport?: string } }[];

const LATE_SECRET = "late-server-secret-value-9876543210";
const node = (file: string, extra: object = {}) => ({ command: process.execPath, args: [file], ...extra });
let config: { clients: object[]; mcpServers: Record<string, object> };

before(async () => {
  config = {
      clients: [
        { name: "all", keyEnv: "KEY_ALL", tools: ["*"] },
        { name: "echo-only", keyEnv: "KEY_ECHO", tools: ["everything/echo"] },
        { name: "no-tools", keyEnv: "KEY_NONE" },
      ],
      mcpServers: {
        // The secret is in the server's environment: get-env would show it, the gateway must not.
        everything: { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"], env: { API_KEY: "${TOOL_SERVER_SECRET}" } },
        hang: node(fixture("hang-server"), { toolTimeoutMs: 400 }),
        slow: node(fixture("hang-server")),
        crash: node(fixture("crash-server")),
        changer: node(fixture("list-changed-server")),
        schema: node(fixture("schema-server")),
        files: { command: process.execPath, args: [binOf("@modelcontextprotocol/server-filesystem"), dir] },
        memory: { command: process.execPath, args: [binOf("@modelcontextprotocol/server-memory")], env: { MEMORY_FILE_PATH: join(dir, "memory.jsonl") } },
      },
  };
  gw = await startGateway({ env: { KEY_ALL: KEYS.all, KEY_ECHO: KEYS.echo, KEY_NONE: KEYS.none, TOOL_SERVER_SECRET: SECRET, LATE_SECRET }, config });
  await waitForMcpServers(gw);
  const mcp = new Client({ name: "reference", version: "1.0.0" });
  await mcp.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER_EVERYTHING, "stdio"], stderr: "ignore" }));
  everythingTools = (await mcp.listTools()).tools;
  await mcp.close();
});
after(async () => {
  await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** key null: no Authorization header at all. */
const call = (path: string, body: unknown, key: string | null = KEYS.all, init: RequestInit = {}) =>
  fetch(`${gw.origin}/tools/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
const get = (path: string, key: string | null = KEYS.all) => fetch(`${gw.origin}/tools/${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
const specOf = async (path: string, key: string | null = KEYS.all): Promise<Spec> => {
  const res = await get(path, key);
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as Spec;
};
const errorOf = async (res: Response, status: number): Promise<ErrorBody["error"]> => {
  const text = await res.text();
  assert.equal(res.status, status, text);
  const body = JSON.parse(text) as ErrorBody;
  assert.equal(typeof body.error.message, "string");
  return body.error;
};
const operations = (spec: Spec) => Object.entries(spec.paths).map(([path, ops]) => ({ path, id: ops.post?.operationId }));
/** What server-everything's tools can be called with here (task-only tools are not offered: see below). */
const callableTools = () => everythingTools.filter((t) => t.execution?.taskSupport !== "required").map((t) => t.name);

describe("every tool of server-everything over REST", () => {
  // One valid call per tool and what its answer must hold. A tool added to server-everything fails
  // the coverage test below until it is added here.
  const calls: Record<string, [args: object, check: (answer: unknown) => void]> = {
    echo: [{ message: "hello REST" }, (a) => assert.equal(a, "Echo: hello REST")],
    "get-sum": [{ a: 2, b: 40 }, (a) => assert.match(String(a), /\b42\b/)],
    "get-env": [{}, (a) => {
      const env = a as Record<string, string>;
      assert.equal(typeof env, "object");
      assert.ok("API_KEY" in env, "the server's env is shown");
      assert.ok(!JSON.stringify(env).includes(SECRET), "but not the secret in it");
    }],
    "get-tiny-image": [{}, (a) => assert.ok((a as string[]).some((x) => /^data:image\/png;base64,/.test(x)), JSON.stringify(a).slice(0, 200))],
    "get-annotated-message": [{ messageType: "success", includeImage: true }, (a) => assert.ok(Array.isArray(a) && (a as string[]).some((x) => /^data:image\/png;base64,/.test(x)))],
    "get-resource-links": [{ count: 2 }, (a) => assert.equal((a as unknown[]).filter((x) => typeof x === "object" && x !== null && "uri" in x).length, 2)],
    "get-resource-reference": [{ resourceType: "Text", resourceId: 3 }, (a) => assert.match(JSON.stringify(a), /Resource 3/)],
    "get-structured-content": [{ location: "Chicago" }, (a) => assert.deepEqual(Object.keys(a as object).sort(), ["conditions", "humidity", "temperature"])],
    "gzip-file-as-resource": [{ data: "data:text/plain;base64,aGVsbG8gZ2F0ZXdheQ==", outputType: "resource" }, (a) => assert.match(String(a), /^data:application\/gzip;base64,H4sI/)],
    "toggle-simulated-logging": [{}, (a) => assert.match(String(a), /logging/i)],
    "toggle-subscriber-updates": [{}, (a) => assert.match(String(a), /notifications|updates/i)],
    "trigger-long-running-operation": [{ duration: 1, steps: 2 }, (a) => assert.match(String(a), /completed/i)],
  };
  // One rejected call per tool that takes arguments, and the field the 422 must name.
  const invalid: [tool: string, args: unknown, param: string][] = [
    ["echo", {}, "message"],
    ["echo", { message: 7 }, "message"],
    ["get-sum", { a: "two", b: 1 }, "a"],
    ["get-sum", { a: 1 }, "b"],
    ["get-annotated-message", { messageType: "loud" }, "messageType"],
    ["get-resource-links", { count: 11 }, "count"],
    ["get-resource-reference", { resourceType: "Video" }, "resourceType"],
    ["get-structured-content", { location: "Atlantis" }, "location"],
    ["gzip-file-as-resource", { data: "not a uri" }, "data"],
    ["trigger-long-running-operation", { duration: "long" }, "duration"],
  ];

  test("the per-server spec offers exactly the tools the MCP SDK's Client lists, operationId the tool's name", T, async () => {
    const spec = await specOf("everything/openapi.json");
    assert.deepEqual(operations(spec).map((o) => o.id).sort(), callableTools().sort());
    assert.deepEqual(Object.keys(spec.paths).sort(), callableTools().map((t) => `/${t}`).sort());
    assert.deepEqual(Object.keys(calls).sort(), callableTools().sort(), "every tool has a call in this test");
  });

  for (const [tool, [args, check]] of Object.entries(calls)) {
    test(`${tool}: a valid call answers 200 with its result`, T, async () => {
      const res = await call(`everything/${tool}`, args);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
      check(JSON.parse(text));
    });
  }

  for (const [tool, args, param] of invalid) {
    test(`${tool} ${JSON.stringify(args)}: 422 naming '${param}', and the server is not asked`, T, async () => {
      const err = await errorOf(await call(`everything/${tool}`, args), 422);
      assert.equal(err.param, param);
      assert.equal(err.code, "invalid_arguments");
      assert.match(err.message, new RegExp(`'${param}'.*everything/${tool}`));
    });
  }

  test("a body that is not a JSON object is a 422; one that is not JSON is a 400; both in OpenAI's shape", T, async () => {
    for (const body of ["[1,2]", '"hello"', "3"]) assert.equal((await errorOf(await call("everything/echo", body), 422)).code, "invalid_arguments");
    assert.equal((await errorOf(await call("everything/echo", '{"message":'), 400)).code, "invalid_json");
  });

  test("a tool that reports an error (isError) is a 424 carrying the tool's own message", T, async () => {
    const err = await errorOf(await call("everything/gzip-file-as-resource", { data: "file:///etc/passwd" }), 424);
    assert.equal(err.code, "tool_error");
    assert.match(err.message, /everything\/gzip-file-as-resource.*Unsupported URL protocol/);
  });

  test("a tool that only runs as an MCP task (execution.taskSupport: required) is not offered: the gateway does not run tasks", T, async () => {
    const taskOnly = everythingTools.filter((t) => t.execution?.taskSupport === "required").map((t) => t.name);
    assert.ok(taskOnly.length > 0, "server-everything has a task-only tool (simulate-research-query)");
    for (const tool of taskOnly) {
      const err = await errorOf(await call(`everything/${tool}`, { topic: "x" }), 404);
      assert.equal(err.code, "tool_not_found");
    }
  });
});

describe("specs", () => {
  const specPaths = ["openapi.json", ...["everything", "hang", "crash", "changer", "schema", "files", "memory"].map((s) => `${s}/openapi.json`)];
  for (const path of specPaths) {
    test(`${path} is valid OpenAPI 3.1 to @scalar/openapi-parser and @apidevtools/swagger-parser`, T, async () => {
      const spec = await specOf(path);
      assert.match(spec.openapi, /^3\.1\./);
      const scalar = await scalarValidate(structuredClone(spec));
      assert.ok(scalar.valid, JSON.stringify(scalar.errors, null, 2));
      await SwaggerParser.validate(structuredClone(spec) as never);
      for (const op of operations(spec)) assert.ok(op.id, `${op.path} has an operationId`);
    });
  }

  test("the spec of all tools names each `{server}__{tool}` at /{server}/{tool}, below servers[0] /tools", T, async () => {
    const spec = await specOf("openapi.json");
    assert.equal(spec.servers[0]?.url, "/tools");
    const ops = operations(spec);
    assert.ok(ops.some((o) => o.path === "/everything/get-sum" && o.id === "everything__get-sum"));
    assert.ok(ops.some((o) => o.path === "/hang/hang" && o.id === "hang__hang"));
    assert.equal(new Set(ops.map((o) => o.id)).size, ops.length, "operationIds are unique");
  });

  test("an unknown server is a 404 for its spec and its docs page", T, async () => {
    assert.equal((await errorOf(await get("nope/openapi.json"), 404)).code, "tool_not_found");
    assert.equal((await fetch(`${gw.origin}/tools/nope/docs`)).status, 404);
  });

  test("the docs pages need no key and point at their spec; the specs do need one", T, async () => {
    for (const [page, spec] of [["docs", "/tools/openapi.json"], ["everything/docs", "/tools/everything/openapi.json"]] as const) {
      const res = await fetch(`${gw.origin}/tools/${page}`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
      const html = await res.text();
      assert.ok(html.includes(spec), `${page} loads ${spec}`);
      assert.ok(!html.includes(KEYS.all));
    }
    const asset = await fetch(`${gw.origin}/tools/docs-assets/swagger-ui-bundle.js`);
    assert.equal(asset.status, 200);
    // The same 401 as /v1 gives: one error model for the whole gateway.
    const v1 = ((await (await fetch(`${gw.origin}/v1/models`)).json()) as ErrorBody).error;
    assert.deepEqual(await errorOf(await get("openapi.json", null), 401), v1);
    assert.equal((await get("everything/openapi.json", "gw-wrong-key-000000000")).status, 401);
  });
});

describe("schemas as servers write them", () => {
  test("2020-12 with $defs, $ref (recursive), anyOf and nested objects: the spec resolves every reference, and the gateway checks it", T, async () => {
    const spec = await specOf("schema/openapi.json");
    // Dereferenced by a validator, the body schema is the tool's own, references and all.
    const deref = (await SwaggerParser.dereference(structuredClone(spec) as never)) as unknown as Spec;
    const body = (deref.paths["/plan"]!.post!.requestBody as { content: Record<string, { schema: { properties: { steps: { items: { properties: Record<string, unknown> } } } } }> }).content["application/json"]!.schema;
    assert.deepEqual(Object.keys(body.properties.steps.items.properties).sort(), ["after", "name", "substeps"]);
    assert.match(JSON.stringify(spec.paths["/plan"]), /destructive/, "the tool's annotations show");
    const plan = { steps: [{ name: "a", after: null, substeps: [{ name: "a.1" }] }, { name: "b", after: "a" }], owner: { name: "Ada" } };
    const res = await call("schema/plan", plan);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { received: plan }, "structuredContent is the answer");
    const rejects: [unknown, string][] = [
      [{ steps: [] }, "steps"],
      [{ steps: [{ name: "a", substeps: [{ name: "" }] }] }, "steps.0.substeps.0.name"],
      [{ steps: [{ name: "a", after: 3 }] }, "steps.0.after"],
      [{ steps: [{ name: "a", colour: "red" }] }, "steps.0"],
      [{ steps: [{ name: "a" }], owner: {} }, "owner.name"],
      [{ steps: [{ name: "a" }], owner: { name: "Ada", email: "not an address" } }, "owner.email"],
    ];
    for (const [args, param] of rejects) assert.equal((await errorOf(await call("schema/plan", args), 422)).param, param, JSON.stringify(args));
  });
});

describe("server-filesystem and server-memory from npm", () => {
  test("write, read and list files in the server's folder; a path outside it is the tool's own error (424)", T, async () => {
    const written = await call("files/write_file", { path: join(dir, "note.txt"), content: "written over REST" });
    assert.equal(written.status, 200, await written.clone().text());
    assert.equal(readFileSync(join(dir, "note.txt"), "utf8"), "written over REST");
    writeFileSync(join(dir, "other.txt"), "from disk");
    const read = await call("files/read_text_file", { path: join(dir, "other.txt") });
    assert.match(JSON.stringify(await read.json()), /from disk/);
    const listed = JSON.stringify(await (await call("files/list_directory", { path: dir })).json());
    assert.ok(listed.includes("note.txt") && listed.includes("other.txt"), listed);
    const outside = await errorOf(await call("files/read_text_file", { path: "/etc/hostname" }), 424);
    assert.equal(outside.code, "tool_error");
    assert.match(outside.message, /denied|outside/i);
  });

  test("server-memory keeps what one call creates for the next", T, async () => {
    const created = await call("memory/create_entities", { entities: [{ name: "gateway", entityType: "software", observations: ["serves MCP tools over REST"] }] });
    assert.equal(created.status, 200, await created.clone().text());
    const graph = JSON.stringify(await (await call("memory/read_graph", {})).json());
    assert.match(graph, /serves MCP tools over REST/);
  });
});

describe("Open WebUI's tool-server flow", () => {
  test("fetch {url}/openapi.json with the key, make a tool of every operation with an operationId, call {url}{path} with the JSON body", T, async () => {
    // What Open WebUI does with a tool server URL (backend/open_webui/utils/tools.py), step by step.
    const url = `${gw.origin}/tools/everything`;
    const res = await fetch(`${url}/openapi.json`, { headers: { authorization: `Bearer ${KEYS.all}` } });
    const spec = (await res.json()) as Spec;
    const tools = Object.entries(spec.paths).flatMap(([path, ops]) => Object.entries(ops).filter(([, op]) => op.operationId).map(([method, op]) => ({ name: op.operationId!, path, method })));
    const sum = tools.find((t) => t.name === "get-sum");
    assert.ok(sum && sum.method === "post");
    const answer = await fetch(`${url}${sum.path}`, { method: "POST", headers: { authorization: `Bearer ${KEYS.all}`, "content-type": "application/json" }, body: JSON.stringify({ a: 1, b: 2 }) });
    assert.equal(answer.status, 200);
    assert.match(JSON.stringify(await answer.json()), /The sum of 1 and 2 is 3/);
  });
});

describe("grants: clients[].tools", () => {
  test("a key granted everything/echo sees only echo, and every other tool answers like one that does not exist", T, async () => {
    assert.deepEqual(operations(await specOf("openapi.json", KEYS.echo)).map((o) => o.id), ["everything__echo"]);
    assert.deepEqual(operations(await specOf("everything/openapi.json", KEYS.echo)).map((o) => o.id), ["echo"]);
    assert.deepEqual(operations(await specOf("hang/openapi.json", KEYS.echo)), []);
    const res = await call("everything/echo", { message: "granted" }, KEYS.echo);
    assert.equal(res.status, 200);
    assert.equal(await res.json(), "Echo: granted");
    const denied = await errorOf(await call("everything/get-sum", { a: 1, b: 2 }, KEYS.echo), 404);
    const missing = await errorOf(await call("everything/no-such-tool", {}, KEYS.echo), 404);
    assert.equal(denied.code, "tool_not_found");
    assert.equal(denied.message.replace("get-sum", "X"), missing.message.replace("no-such-tool", "X"), "a denied tool is told apart from a missing one by nothing");
  });

  test("a key with no tools grant (the default) sees no tools and calls none", T, async () => {
    assert.deepEqual((await specOf("openapi.json", KEYS.none)).paths, {});
    assert.equal((await errorOf(await call("everything/echo", { message: "x" }, KEYS.none), 404)).code, "tool_not_found");
  });

  test("without a key a call is a 401, before anything else is looked at", T, async () => {
    assert.equal((await call("everything/echo", { message: "x" }, null)).status, 401);
    assert.equal((await call("nope/nothing", "not json", null)).status, 401);
  });
});

describe("faults", () => {
  test("a tool that outlives its toolTimeoutMs is a 504, and the server is told to cancel", T, async () => {
    const started = performance.now();
    const err = await errorOf(await call("hang/hang", {}), 504);
    assert.equal(err.code, "tool_timeout");
    assert.ok(performance.now() - started < 5000);
    await waitFor("the hang server saw notifications/cancelled", () => gw.lines.some((l) => l.includes('"mcpServer":"hang"') && l.includes("cancelled request")));
  });

  test("a client that leaves mid-call cancels the call on the MCP server", T, async () => {
    const seen = () => gw.lines.filter((l) => l.includes('"mcpServer":"slow"') && l.includes("cancelled request")).length;
    const before = seen();
    const aborter = new AbortController();
    const pending = call("slow/hang", {}, KEYS.all, { signal: aborter.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    aborter.abort();
    assert.ok((await pending) instanceof Error);
    await waitFor("the slow server saw notifications/cancelled", () => seen() > before);
  });

  test("a server that crashes mid-call: 503 for that call and while it restarts, then it answers again", T, async () => {
    assert.equal((await errorOf(await call("crash/crash", {}), 503)).code, "mcp_server_unavailable");
    // Restarted after a backoff of about a second: meanwhile its tools are a 503, not a 404.
    const down = await errorOf(await call("crash/echo", { message: "too soon" }), 503);
    assert.match(down.message, /'crash' is not connected/);
    await waitFor("crash ready again", async () => (await call("crash/echo", { message: "x" })).status === 200, 15_000);
    const res = await call("crash/echo", { message: "back" });
    assert.equal(await res.json(), "back");
  });

  test("a server whose tool list changes: the specs follow it and the new tool is callable", T, async () => {
    assert.ok(!operations(await specOf("changer/openapi.json")).some((o) => o.id === "fresh"));
    assert.equal(await (await call("changer/add_tool", { name: "fresh" })).json(), "added fresh");
    await waitFor("fresh in the spec", async () => operations(await specOf("changer/openapi.json")).some((o) => o.id === "fresh"));
    assert.ok(operations(await specOf("openapi.json")).some((o) => o.id === "changer__fresh"));
    assert.equal(await (await call("changer/fresh", {})).json(), "I am fresh");
  });
});

describe("reload (SIGHUP)", () => {
  const reloaded = (n: number) => waitFor(`reload ${n} logged`, () => gw.lines.filter((l) => /config reload(ed| rejected)/.test(l)).length >= n, 15_000);

  test("a server added by a reload is served with its spec, and its credentials are scrubbed like the others'", T, async () => {
    assert.equal((await get("late/openapi.json")).status, 404);
    const late = { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"], env: { SERVICE_TOKEN: "${LATE_SECRET}" } };
    writeFileSync(gw.configFile!, JSON.stringify({ ...config, mcpServers: { ...config.mcpServers, late } }));
    gw.proc.kill("SIGHUP");
    await reloaded(1);
    await waitForMcpServers(gw);
    assert.ok(operations(await specOf("late/openapi.json")).some((o) => o.id === "echo"));
    assert.ok(operations(await specOf("openapi.json")).some((o) => o.id === "late__get-sum"));
    const env = JSON.stringify(await (await call("late/get-env", {})).json());
    assert.match(env, /SERVICE_TOKEN/);
    assert.ok(!env.includes(LATE_SECRET), "the new server's secret is scrubbed too");
  });

  test("a config that does not load is rejected: the running servers and their endpoints stay", T, async () => {
    const before = gw.lines.filter((l) => /config reload(ed| rejected)/.test(l)).length;
    writeFileSync(gw.configFile!, JSON.stringify({ ...config, mcpServers: { everything: { command: 5 } } }));
    gw.proc.kill("SIGHUP");
    await reloaded(before + 1);
    assert.ok(gw.lines.some((l) => /config reload rejected: .*mcpServers\.everything\.command/.test(l)), gw.lines.slice(-3).join("\n"));
    assert.equal(await (await call("late/echo", { message: "still here" })).json(), "Echo: still here");
    assert.equal(await (await call("everything/echo", { message: "and here" })).json(), "Echo: and here");
  });
});

describe("openai-gateway tools -- COMMAND (the one-line start)", () => {
  const command = ["--", process.execPath, SERVER_EVERYTHING, "stdio"];

  test("without --api-key: loopback only, says so, serves the server's tools under its name and no /v1", T, async () => {
    const one = await startGateway({ subcommand: "tools", args: command });
    try {
      assert.ok(one.lines.some((l) => l.includes("NO API KEY")), "it warns that there is no key");
      assert.ok(one.lines.some((l) => l.includes("/tools/docs")), "it prints where the docs are");
      await waitForMcpServers(one);
      const res = await fetch(`${one.origin}/tools/everything/openapi.json`);
      assert.equal(res.status, 200, await res.clone().text());
      const spec = (await res.json()) as Spec;
      assert.deepEqual(operations(spec).map((o) => o.id).sort(), callableTools().sort());
      const echo = await fetch(`${one.origin}/tools/everything/echo`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"message":"one line"}' });
      assert.equal(await echo.json(), "Echo: one line");
      assert.equal((await fetch(`${one.origin}/tools/docs`)).status, 200);
      assert.equal((await fetch(`${one.origin}/v1/models`)).status, 404, "a tools-only gateway has no /v1");
    } finally {
      await one.stop();
    }
  });

  test("with --api-key and --name: the key is required, the name is in the URLs", T, async () => {
    const key = "gw-tools-command-key-0123456789";
    const one = await startGateway({ subcommand: "tools", args: ["--api-key", key, "--name", "ev", ...command] });
    try {
      assert.ok(!one.lines.some((l) => l.includes("NO API KEY")));
      assert.ok(!one.lines.some((l) => l.includes(key)), "the key is not logged");
      await waitForMcpServers(one);
      const url = `${one.origin}/tools/ev/get-sum`;
      const body = JSON.stringify({ a: 1, b: 1 });
      assert.equal((await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })).status, 401);
      const ok = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${key}` }, body });
      assert.match(String(await ok.json()), /\b2\b/);
    } finally {
      await one.stop();
    }
  });
});
