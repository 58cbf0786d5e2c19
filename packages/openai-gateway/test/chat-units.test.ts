/**
 * The rules of chat sessions one by one: which messages a full session drops, the store's owner
 * checks, eviction and expiry (node:sqlite, in memory), and the `chat`, `dataDir` and
 * `server.cors` config keys as loadConfig reads them (defaults, precedence, bad values).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { seqsToDrop } from "../src/chat-sessions/history-trim.ts";
import { openSessionStore } from "../src/chat-sessions/session-store.ts";
import { DEFAULT_CHAT_MAX_MESSAGES, DEFAULT_CHAT_MAX_SESSIONS_PER_KEY, DEFAULT_DATA_DIR } from "../src/config/defaults.ts";
import { loadConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/types.ts";

/** Messages by their roles' initials, seq 1, 2, …: "suatau" = system, user, assistant, tool, assistant, user. */
const roles = (initials: string) =>
  [...initials].map((c, i) => ({ seq: i + 1, role: { s: "system", u: "user", a: "assistant", t: "tool" }[c]! }));

describe("seqsToDrop", () => {
  test("within the limit nothing goes", () => {
    assert.deepEqual(seqsToDrop(roles("suaua"), 5), []);
  });
  test("the oldest whole turns go, tool calls with their results; the leading system message stays", () => {
    // s | u a t a | u a | u a   -> 9 messages, max 5: the first turn (4) goes, then 5 are left.
    assert.deepEqual(seqsToDrop(roles("suatauaua"), 5), [2, 3, 4, 5]);
    // max 3: the second turn goes too.
    assert.deepEqual(seqsToDrop(roles("suatauaua"), 3), [2, 3, 4, 5, 6, 7]);
  });
  test("the latest turn stays whole even when it alone is over the limit", () => {
    assert.deepEqual(seqsToDrop(roles("uauatatata"), 4), [1, 2]);
    assert.deepEqual(seqsToDrop(roles("uatatata"), 2), []);
  });
  test("no system message: the first turn is the first to go", () => {
    assert.deepEqual(seqsToDrop(roles("uauaua"), 4), [1, 2]);
  });
});

describe("the session store", () => {
  const limits = { ttlMs: 60_000, maxMessages: 4, maxSessionsPerKey: 2 };

  test("a session is found only with its owner; ids are unguessable and distinct", () => {
    const store = openSessionStore(":memory:", limits);
    const a = store.create("alice", "m").id;
    const b = store.create("alice", "m").id;
    assert.match(a, /^chat_[A-Za-z0-9_-]{24}$/);
    assert.notEqual(a, b);
    assert.ok(store.find(a, "alice"));
    assert.equal(store.find(a, "bob"), undefined);
    assert.equal(store.remove(a, "bob"), false);
    assert.ok(store.find(a, "alice"), "bob cannot delete it");
    store.close();
  });

  test("sessions created in the same millisecond are evicted oldest first", () => {
    const store = openSessionStore(":memory:", limits);
    const ids = [1, 2, 3].map(() => store.create("alice", "m"));
    assert.deepEqual(ids[2]!.evicted, [ids[0]!.id]);
    assert.deepEqual(store.list("alice").map((s) => s.session_id).sort(), [ids[1]!.id, ids[2]!.id].sort());
    store.close();
  });

  test("append trims to maxMessages and keeps the order; the model is updated", () => {
    const store = openSessionStore(":memory:", limits);
    const { id } = store.create("alice", "m", "be brief");
    store.append(id, "m", [{ role: "user", content: "1" }, { role: "assistant", content: "one" }]);
    store.append(id, "n", [{ role: "user", content: "2" }, { role: "assistant", content: "two" }]);
    assert.deepEqual(store.messages(id).map((m) => m.content), ["be brief", "2", "two"]);
    assert.equal(store.find(id, "alice")?.model, "n");
    assert.equal(store.find(id, "alice")?.messages, 3);
    store.close();
  });

  test("expire ends the sessions idle longer than the ttl, and their messages", () => {
    const store = openSessionStore(":memory:", limits);
    const { id } = store.create("alice", "m");
    store.append(id, "m", [{ role: "user", content: "x" }, { role: "assistant", content: "y" }]);
    assert.equal(store.expire(Date.now() + 30_000), 0);
    assert.equal(store.expire(Date.now() + 61_000), 1);
    assert.equal(store.find(id, "alice"), undefined);
    assert.deepEqual(store.messages(id), []);
    store.close();
  });

  test("a file store keeps its sessions after it is closed and opened again", () => {
    const dir = mkdtempSync(join(tmpdir(), "chat-store-"));
    try {
      const file = join(dir, "nested", "chat.sqlite");
      const one = openSessionStore(file, limits);
      const { id } = one.create("alice", "m");
      one.append(id, "m", [{ role: "user", content: "kept" }, { role: "assistant", content: "yes" }]);
      one.close();
      const two = openSessionStore(file, limits);
      assert.deepEqual(two.messages(id).map((m) => m.content), ["kept", "yes"]);
      two.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("chat, dataDir and server.cors in the config", () => {
  const dir = mkdtempSync(join(tmpdir(), "chat-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  const file = (extra: object) => {
    const path = join(dir, `c${++n}.json`);
    writeFileSync(path, JSON.stringify({ providers: { p: { baseUrl: "http://127.0.0.1:9/v1" } }, passthrough: "p", ...extra }));
    return path;
  };
  const fails = (extra: object, pattern: RegExp) =>
    assert.throws(() => loadConfig({ file: file(extra), env: {} }), (err: unknown) => err instanceof ConfigError && pattern.test(err.message));

  test("the defaults: a week's ttl, chat.sqlite in .mcpgw-data under the working directory", () => {
    const c = loadConfig({ env: {} });
    assert.equal(c.dataDir, resolve(DEFAULT_DATA_DIR));
    assert.equal(c.chat.store, resolve(DEFAULT_DATA_DIR, "chat.sqlite"));
    assert.equal(c.chat.ttlMs, 7 * 86_400_000);
    assert.equal(c.chat.maxMessages, DEFAULT_CHAT_MAX_MESSAGES);
    assert.equal(c.chat.maxSessionsPerKey, DEFAULT_CHAT_MAX_SESSIONS_PER_KEY);
    assert.equal(c.chat.model, undefined);
    assert.equal(c.server.corsOrigins, undefined);
  });

  test("the data directory: --data-dir, then GATEWAY_DATA_DIR, then dataDir; chat.store is relative to it", () => {
    const path = file({ dataDir: "/from/file", chat: { store: "sessions/chat.db" } });
    assert.equal(loadConfig({ file: path, env: {} }).chat.store, "/from/file/sessions/chat.db");
    assert.equal(loadConfig({ file: path, env: { GATEWAY_DATA_DIR: "/from/env" } }).dataDir, "/from/env");
    assert.equal(loadConfig({ file: path, env: { GATEWAY_DATA_DIR: "/from/env" }, dataDir: "/from/flag" }).chat.store, "/from/flag/sessions/chat.db");
    assert.equal(loadConfig({ file: file({ chat: { store: "/abs/chat.db" } }), env: {} }).chat.store, "/abs/chat.db");
    assert.equal(loadConfig({ file: file({ chat: { store: ":memory:" } }), env: {} }).chat.store, ":memory:");
  });

  test("chat.ttl: units or seconds", () => {
    for (const [ttl, ms] of [["90s", 90_000], ["30m", 1_800_000], ["12h", 43_200_000], ["2d", 172_800_000], ["5M", 300_000], [45, 45_000]] as const) {
      assert.equal(loadConfig({ file: file({ chat: { ttl } }), env: {} }).chat.ttlMs, ms, String(ttl));
    }
  });

  test("bad chat values name the field", () => {
    fails({ chat: { ttl: "0s" } }, /chat\.ttl/);
    fails({ chat: { ttl: "5 weeks" } }, /chat\.ttl.*duration/);
    fails({ chat: { ttl: -1 } }, /chat\.ttl/);
    fails({ chat: { maxMessages: 1 } }, /chat\.maxMessages/);
    fails({ chat: { maxSessionsPerKey: 0 } }, /chat\.maxSessionsPerKey/);
    fails({ chat: { stores: "x" } }, /chat/);
  });

  test("server.cors.origins: origins as browsers send them; a path or another scheme is an error", () => {
    const c = loadConfig({ file: file({ server: { cors: { origins: ["https://app.example.com/", "http://localhost:5173", "*"] } } }), env: {} });
    assert.deepEqual(c.server.corsOrigins, ["https://app.example.com", "http://localhost:5173", "*"]);
    fails({ server: { cors: { origins: ["https://app.example.com/chat"] } } }, /server\.cors\.origins/);
    fails({ server: { cors: { origins: ["ftp://example.com"] } } }, /server\.cors\.origins/);
    fails({ server: { cors: { origins: [] } } }, /server\.cors\.origins/);
  });
});
