/**
 * Chat sessions (POST /chat, GET /chat, GET and DELETE /chat/{id}) end to end: the gateway as a
 * process, a real MCP server from npm (server-everything over stdio) behind it, and the fake
 * upstream's scripted tool-calling model ("CALL tool {args}") as the model. What a user of the API
 * checks: one message in, the reply out, the conversation kept by the gateway (the upstream gets
 * the whole history every time), tools run on the way, sessions private to their key, kept across
 * a restart, expired, trimmed and evicted by the configured limits, errors in OpenAI's shape.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";

const UPSTREAM_KEY = "sk-chat-upstream-key-0123456789";
const ALICE = "gw-chat-alice-key-0123456789";
const BOB = "gw-chat-bob-key-0123456789";
const CHAT = "/v1/chat/completions";
const T = { timeout: 30_000 };
const env = { UPSTREAM_KEY, ALICE_KEY: ALICE, BOB_KEY: BOB };
const everything = { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] };

/** The config every gateway here shares; `chat` and `extra` on top. */
const configWith = (up: FakeUpstream, chat: object = {}, extra: object = {}) => ({
  providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
  models: {
    assistant: { targets: "fake/gpt-4o-mini", tools: ["everything"] },
    plain: { targets: "fake/gpt-4o-mini" },
  },
  clients: [
    { name: "alice", keyEnv: "ALICE_KEY" },
    { name: "bob", keyEnv: "BOB_KEY", models: ["plain"] },
  ],
  mcpServers: { everything },
  chat: { model: "assistant", ...chat },
  ...extra,
});

interface Message {
  role: string;
  content?: string | null;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}
interface Answer {
  response: string;
  session_id: string;
  model: string;
  tool_calls: { name: string; server: string; tool: string; outcome: string; ms: number }[];
  usage: { total_tokens: number } | null;
}
interface Reply<B = Record<string, unknown>> {
  status: number;
  body: B;
  headers: Headers;
}

async function call<B = Record<string, unknown>>(gw: GatewayProcess, method: string, path: string, key: string | undefined, body?: unknown): Promise<Reply<B>> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${gw.origin}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as B, headers: res.headers };
}
const say = (gw: GatewayProcess, body: object, key = ALICE) => call<Answer>(gw, "POST", "/chat", key, body);

/** A streamed /chat answer, read to its end: each SSE event's name and parsed data, in order. */
async function streamed(gw: GatewayProcess, body: object, key = ALICE): Promise<{ status: number; headers: Headers; events: { event: string; data: any }[]; comments: string[] }> {
  const res = await fetch(`${gw.origin}/chat`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const text = await res.text();
  const events: { event: string; data: any }[] = [];
  const comments: string[] = [];
  for (const block of text.split("\n\n")) {
    if (!block.trim()) continue;
    const lines = block.split("\n");
    for (const l of lines) if (l.startsWith(":")) comments.push(l.slice(1).trim());
    const event = lines.find((l) => l.startsWith("event:"))?.slice(6).trim() ?? "message";
    const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
    if (data) events.push({ event, data: JSON.parse(data) });
  }
  return { status: res.status, headers: res.headers, events, comments };
}

/** The conversation as the model saw it on the upstream's last chat request (the gateway's tool instructions excepted). */
const lastSeen = (up: FakeUpstream): Message[] => {
  const chats = up.requests.filter((r) => r.path === CHAT);
  return chats.at(-1)!.body.messages as Message[];
};
const shape = (messages: Message[]) => messages.map((m) => `${m.role}:${m.content ?? (m.tool_calls ?? []).map((c) => c.function.name).join(",")}`);

let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({ env, config: configWith(up, { store: ":memory:" }, { tools: { keepaliveMs: 1000 } }) });
  await waitForMcpServers(gw);
});
beforeEach(() => up.reset());
after(async () => {
  await gw?.stop();
  await up?.close();
});

describe("a conversation", () => {
  test("the first message starts a session; the model's tool calls run; the next message carries the whole history", T, async () => {
    const first = await say(gw, { message: 'CALL everything__echo {"message": "hello"}' });
    assert.equal(first.status, 200);
    assert.equal(first.body.response, "done: Echo: hello");
    assert.match(first.body.session_id, /^chat_[\w-]{24}$/);
    assert.equal(first.headers.get("x-session-id"), first.body.session_id);
    assert.equal(first.body.model, "assistant", "chat.model answers a session that names none");
    assert.deepEqual(first.body.tool_calls.map((c) => [c.name, c.server, c.tool, c.outcome]), [["everything__echo", "everything", "echo", "ok"]]);
    assert.ok(first.body.usage && first.body.usage.total_tokens > 0);

    const second = await say(gw, { session_id: first.body.session_id, message: "and now?" });
    assert.equal(second.status, 200);
    assert.equal(second.body.response, "echo: and now?");
    assert.equal(second.body.session_id, first.body.session_id);
    // The model got the first turn as it happened: the call, its result, the answer; then the new message.
    assert.deepEqual(shape(lastSeen(up)), [
      'user:CALL everything__echo {"message": "hello"}',
      "assistant:everything__echo",
      "tool:Echo: hello",
      "assistant:done: Echo: hello",
      "user:and now?",
    ]);

    const history = await call<{ session_id: string; model: string; messages: Message[] }>(gw, "GET", `/chat/${first.body.session_id}`, ALICE);
    assert.equal(history.status, 200);
    assert.equal(history.body.model, "assistant");
    assert.deepEqual(shape(history.body.messages), [...shape(lastSeen(up)), "assistant:echo: and now?"]);
  });

  test("a system message starts a session; a model named in the message is used, and kept for the next", T, async () => {
    const first = await say(gw, { message: "hi", system: "You are terse.", model: "plain" });
    assert.equal(first.status, 200);
    assert.equal(first.body.model, "plain");
    assert.deepEqual(shape(lastSeen(up)), ["system:You are terse.", "user:hi"]);
    const upstreamBody = up.requests.filter((r) => r.path === CHAT).at(-1)!.body;
    assert.equal(upstreamBody.tools, undefined, "a model without tools is offered none");
    const second = await say(gw, { session_id: first.body.session_id, message: "again" });
    assert.equal(second.body.model, "plain");
    assert.deepEqual(shape(lastSeen(up)), ["system:You are terse.", "user:hi", "assistant:echo: hi", "user:again"]);
  });

  test("messages sent at once to one session are answered in the order they came, each seeing the one before", T, async () => {
    const start = await say(gw, { message: "start" });
    // The first of the two is slow upstream: the second must wait for it, not overtake it.
    up.enqueue(CHAT, { kind: "delay", ms: 700 }, { kind: "ok" });
    const a = say(gw, { session_id: start.body.session_id, message: "first" });
    await new Promise((r) => setTimeout(r, 100));
    const b = say(gw, { session_id: start.body.session_id, message: "second" });
    const [ra, rb] = await Promise.all([a, b]);
    assert.equal(ra.body.response, "echo: first");
    assert.equal(rb.body.response, "echo: second");
    assert.deepEqual(shape(lastSeen(up)), ["user:start", "assistant:echo: start", "user:first", "assistant:echo: first", "user:second"]);
  });

  test("a failed answer leaves the history as it was; the message can be sent again", T, async () => {
    const start = await say(gw, { message: "start" });
    up.enqueue(CHAT, { kind: "status", status: 400, body: { error: { message: "bad thing", type: "invalid_request_error" } } });
    const failed = await say(gw, { session_id: start.body.session_id, message: "doomed" });
    assert.equal(failed.status, 400);
    assert.equal(failed.headers.get("x-session-id"), start.body.session_id, "an error still names the session");
    assert.equal((failed.body as unknown as { error: { message: string } }).error.message, "bad thing");
    const again = await say(gw, { session_id: start.body.session_id, message: "retry" });
    assert.equal(again.status, 200);
    assert.deepEqual(shape(lastSeen(up)), ["user:start", "assistant:echo: start", "user:retry"]);
  });
});

describe("streamed", () => {
  test("events: session first, each tool call as it runs and ends, the reply's text, then done with the whole reply", T, async () => {
    const { status, headers, events } = await streamed(gw, { message: 'CALL everything__echo {"message": "streamed"}' });
    assert.equal(status, 200);
    assert.match(headers.get("content-type") ?? "", /^text\/event-stream/);
    const names = events.map((e) => e.event);
    assert.equal(names[0], "session");
    assert.equal(names.at(-1), "done");
    const id = events[0]!.data.session_id as string;
    assert.equal(headers.get("x-session-id"), id);
    const tools = events.filter((e) => e.event === "tool").map((e) => e.data);
    assert.deepEqual(tools.map((t) => [t.name, t.server, t.tool, t.status]), [
      ["everything__echo", "everything", "echo", "running"],
      ["everything__echo", "everything", "echo", "ok"],
    ]);
    assert.equal(typeof tools[1].ms, "number");
    // The tool events come before the text that used their result.
    assert.ok(names.lastIndexOf("tool") < names.indexOf("delta"), names.join(" "));
    const text = events.filter((e) => e.event === "delta").map((e) => e.data.text).join("");
    const done = events.at(-1)!.data;
    assert.equal(text, "done: Echo: streamed");
    assert.equal(done.response, text);
    assert.equal(done.session_id, id);
    assert.equal(done.tool_calls.length, 1);
    // Kept as a whole answer is kept.
    const history = await call<{ messages: Message[] }>(gw, "GET", `/chat/${id}`, ALICE);
    assert.deepEqual(shape(history.body.messages).at(-1), "assistant:done: Echo: streamed");
    assert.equal(history.body.messages.length, 4);
  });

  test("an upstream stream that breaks ends with an error event, no done, and nothing kept", T, async () => {
    const start = await say(gw, { message: "start" });
    up.enqueue(CHAT, { kind: "stream-cut", afterChunks: 2 });
    const { events } = await streamed(gw, { session_id: start.body.session_id, message: "cut" });
    assert.equal(events[0]?.event, "session");
    assert.equal(events.at(-1)?.event, "error", events.map((e) => e.event).join(" "));
    assert.ok(!events.some((e) => e.event === "done"));
    assert.equal(typeof events.at(-1)!.data.error.message, "string");
    const history = await call<{ messages: Message[] }>(gw, "GET", `/chat/${start.body.session_id}`, ALICE);
    assert.deepEqual(shape(history.body.messages), ["user:start", "assistant:echo: start"]);
  });

  test("an error before the answer starts is an OpenAI error response, not a stream", T, async () => {
    const res = await streamed(gw, { message: "x", model: "no-such-model" });
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
  });
});

describe("sessions belong to their key", () => {
  test("GET /chat lists a key's sessions, newest first; another key sees none of them, even by id", T, async () => {
    const a = await say(gw, { message: "one" });
    const b = await say(gw, { message: "two" });
    const list = await call<{ sessions: { session_id: string; messages: number; model: string }[] }>(gw, "GET", "/chat", ALICE);
    assert.equal(list.status, 200);
    const ids = list.body.sessions.map((s) => s.session_id);
    assert.ok(ids.indexOf(b.body.session_id) < ids.indexOf(a.body.session_id) && ids.indexOf(b.body.session_id) >= 0, ids.join(" "));
    assert.equal(list.body.sessions.find((s) => s.session_id === a.body.session_id)?.messages, 2);

    const bobs = await call<{ sessions: unknown[] }>(gw, "GET", "/chat", BOB);
    assert.deepEqual(bobs.body.sessions, []);
    for (const [method, path, body] of [
      ["GET", `/chat/${a.body.session_id}`, undefined],
      ["DELETE", `/chat/${a.body.session_id}`, undefined],
      ["POST", "/chat", { session_id: a.body.session_id, message: "let me in", model: "plain" }],
    ] as const) {
      const res = await call<{ error: { code: string; param: string } }>(gw, method, path, BOB, body);
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal(res.body.error.code, "session_not_found");
    }
    // Alice's session is untouched.
    assert.equal((await call(gw, "GET", `/chat/${a.body.session_id}`, ALICE)).status, 200);
  });

  test("DELETE ends a session: it is gone from the list, and a message to it is a 404", T, async () => {
    const s = await say(gw, { message: "to be deleted" });
    const del = await call(gw, "DELETE", `/chat/${s.body.session_id}`, ALICE);
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, { session_id: s.body.session_id, deleted: true });
    assert.equal((await call(gw, "GET", `/chat/${s.body.session_id}`, ALICE)).status, 404);
    assert.equal((await say(gw, { session_id: s.body.session_id, message: "hello?" })).status, 404);
    assert.equal((await call(gw, "DELETE", `/chat/${s.body.session_id}`, ALICE)).status, 404);
  });

  test("every route needs a key", T, async () => {
    for (const [method, path] of [["POST", "/chat"], ["GET", "/chat"], ["GET", "/chat/chat_x"], ["DELETE", "/chat/chat_x"]]) {
      const res = await call<{ error: { type: string } }>(gw, method!, path!, undefined, method === "POST" ? { message: "hi" } : undefined);
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(typeof res.body.error.type, "string");
    }
  });

  test("a key may not chat with a model it may not use", T, async () => {
    const res = await say(gw, { message: "hi" }, BOB);
    assert.equal(res.status, 404, "bob may use only 'plain'; chat.model is 'assistant'");
    assert.equal((await call<{ sessions: unknown[] }>(gw, "GET", "/chat", BOB)).body.sessions.length, 0, "no session is made for a refused message");
  });
});

describe("bad requests get OpenAI errors", () => {
  const cases: [string, unknown, number, string | undefined][] = [
    ["no message", {}, 400, "message"],
    ["an empty message", { message: "   " }, 400, "message"],
    ["message not a string", { message: 42 }, 400, "message"],
    ["stream not a boolean", { message: "hi", stream: "yes" }, 400, "stream"],
    ["an unknown session", { message: "hi", session_id: "chat_nope" }, 404, "session_id"],
    ["system with a session", { message: "hi", session_id: "chat_nope", system: "be nice" }, 400, "system"],
    ["not JSON", "{not json", 400, undefined],
  ];
  for (const [name, body, status, param] of cases) {
    test(name, T, async () => {
      const res = await call<{ error: { message: string; type: string; param?: string } }>(gw, "POST", "/chat", ALICE, body);
      assert.equal(res.status, status);
      assert.equal(typeof res.body.error.message, "string");
      assert.equal(typeof res.body.error.type, "string");
      if (param) assert.equal(res.body.error.param, param);
      assert.ok(!JSON.stringify(res.body).includes(UPSTREAM_KEY));
    });
  }
});

test("GET / says what the gateway is and where its endpoints are", T, async () => {
  const res = await call<{ service: string; endpoints: Record<string, string> }>(gw, "GET", "/", undefined);
  assert.equal(res.status, 200);
  assert.equal(res.body.service, "openai-gateway");
  assert.equal(res.body.endpoints.chat, "/chat");
  assert.equal(res.body.endpoints.chat_completions, "/v1/chat/completions");
  assert.equal(res.headers.get("access-control-allow-origin"), null, "no CORS unless server.cors.origins is set");
});

describe("configured limits", () => {
  let dir: string;
  let limited: GatewayProcess;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "gw-chat-limits-"));
    limited = await startGateway({
      env: { ...env, GATEWAY_DATA_DIR: dir },
      config: configWith(up, { model: "plain", ttl: "2s", maxMessages: 4, maxSessionsPerKey: 2 }, { models: { plain: { targets: "fake/gpt-4o-mini" } } }),
    });
  });
  after(async () => {
    await limited?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("chat.maxMessages: the oldest whole turns go, the system message stays", T, async () => {
    const s = await say(limited, { message: "one", system: "sys" });
    const id = s.body.session_id;
    await say(limited, { session_id: id, message: "two" });
    await say(limited, { session_id: id, message: "three" });
    const history = await call<{ messages: Message[] }>(limited, "GET", `/chat/${id}`, ALICE);
    assert.deepEqual(shape(history.body.messages), ["system:sys", "user:three", "assistant:echo: three"]);
    await say(limited, { session_id: id, message: "four" });
    assert.deepEqual(shape(lastSeen(up)), ["system:sys", "user:three", "assistant:echo: three", "user:four"]);
  });

  test("chat.maxSessionsPerKey: a new session ends the least recently used", T, async () => {
    const a = await say(limited, { message: "a" });
    const b = await say(limited, { message: "b" });
    await say(limited, { session_id: a.body.session_id, message: "a again" }); // a is now the more recent
    const c = await say(limited, { message: "c" });
    const ids = (await call<{ sessions: { session_id: string }[] }>(limited, "GET", "/chat", ALICE)).body.sessions.map((s) => s.session_id);
    assert.deepEqual(ids, [c.body.session_id, a.body.session_id]);
    assert.equal((await say(limited, { session_id: b.body.session_id, message: "b?" })).status, 404);
    assert.ok(limited.lines.some((l) => l.includes("chat.maxSessionsPerKey")), "the eviction is logged");
  });

  test("chat.ttl: an idle session expires", T, async () => {
    const s = await say(limited, { message: "short-lived" });
    await new Promise((r) => setTimeout(r, 2300));
    const res = await say(limited, { session_id: s.body.session_id, message: "still there?" });
    assert.equal(res.status, 404);
    assert.equal((res.body as unknown as { error: { code: string } }).error.code, "session_not_found");
    assert.ok(!(await call<{ sessions: { session_id: string }[] }>(limited, "GET", "/chat", ALICE)).body.sessions.some((x) => x.session_id === s.body.session_id));
  });

  test("the sessions live in dataDir/chat.sqlite", () => {
    assert.ok(existsSync(join(dir, "chat.sqlite")));
  });
});

test("a restart keeps the sessions: the conversation goes on where it was", { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "gw-chat-restart-"));
  const config = configWith(up, { model: "plain" });
  try {
    const one = await startGateway({ env: { ...env, GATEWAY_DATA_DIR: dir }, config });
    const s = await say(one, { message: "remember me" });
    assert.equal(await one.stop(), 0);
    const two = await startGateway({ env: { ...env, GATEWAY_DATA_DIR: dir }, config });
    try {
      const next = await say(two, { session_id: s.body.session_id, message: "do you?" });
      assert.equal(next.status, 200);
      assert.deepEqual(shape(lastSeen(up)), ["user:remember me", "assistant:echo: remember me", "user:do you?"]);
      assert.equal((await call<{ sessions: unknown[] }>(two, "GET", "/chat", ALICE)).body.sessions.length, 1);
    } finally {
      await two.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a config with several models and no chat.model: a message must name one", T, async () => {
  const open = await startGateway({ env, config: { ...configWith(up), chat: { store: ":memory:" } } });
  try {
    const res = await say(open, { message: "hi" });
    assert.equal(res.status, 400);
    const error = (res.body as unknown as { error: { code: string; param: string; message: string } }).error;
    assert.equal(error.code, "model_required");
    assert.equal(error.param, "model");
    assert.match(error.message, /assistant, plain/);
    assert.equal((await say(open, { message: "hi", model: "plain" })).status, 200);
  } finally {
    await open.stop();
  }
});
