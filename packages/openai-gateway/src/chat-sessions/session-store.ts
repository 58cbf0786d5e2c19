/**
 * The chat sessions, in SQLite through Node's built-in node:sqlite (no native build to install or
 * break; one file, or :memory:). A session belongs to the client key that started it (by the key's
 * name, which survives a key rotation); every read and write names that owner, so another key's
 * session is one that does not exist. Each answer's messages go in with one transaction, trimmed
 * to maxMessages in the same one: a crash loses at most the answer being written.
 *
 * Synchronous on purpose: each statement is a few microseconds against a local file, less than an
 * await would cost, and a transaction cannot interleave with another request's.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { ChatMessage } from "../chat/tool-turns.ts";
import { seqsToDrop, type StoredRole } from "./history-trim.ts";

export interface SessionSummary {
  session_id: string;
  model: string;
  created_at: string;
  updated_at: string;
  messages: number;
}

export interface SessionLimits {
  ttlMs: number;
  maxMessages: number;
  maxSessionsPerKey: number;
}

export interface SessionStore {
  /** A new session of `owner`; the owner's least recently used ones end beyond maxSessionsPerKey. Returns its id and the ids it ended. */
  create(owner: string, model: string, system?: string): { id: string; evicted: string[] };
  /** The session, if it exists, belongs to `owner` and has not expired. */
  find(id: string, owner: string): SessionSummary | undefined;
  messages(id: string): ChatMessage[];
  /** One answer: its messages appended, the oldest turns trimmed, the session touched (and its model set), in one transaction. */
  append(id: string, model: string, messages: ChatMessage[]): void;
  list(owner: string): SessionSummary[];
  remove(id: string, owner: string): boolean;
  /** Ends the sessions idle longer than ttlMs; returns how many. */
  expire(now?: number): number;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  model TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_owner ON sessions (owner, updated_at);
CREATE INDEX IF NOT EXISTS sessions_by_age ON sessions (updated_at);
CREATE TABLE IF NOT EXISTS messages (
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
`;

interface SessionRow {
  id: string;
  model: string;
  created_at: number;
  updated_at: number;
  messages: number;
}

/** `path`: a file (its folder is made) or ":memory:". */
export function openSessionStore(path: string, limits: SessionLimits): SessionStore {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  // WAL: readers do not wait for the writer; synchronous=NORMAL is durable across a process crash
  // (the case that matters here); busy_timeout: a second process on the same file waits, not fails.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;");
  db.exec(SCHEMA);

  const summaryColumns = "s.id, s.model, s.created_at, s.updated_at, (SELECT count(*) FROM messages m WHERE m.session_id = s.id) AS messages";
  const q = {
    insert: db.prepare("INSERT INTO sessions (id, owner, model, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"),
    find: db.prepare(`SELECT ${summaryColumns} FROM sessions s WHERE s.id = ? AND s.owner = ? AND s.updated_at >= ?`),
    list: db.prepare(`SELECT ${summaryColumns} FROM sessions s WHERE s.owner = ? AND s.updated_at >= ? ORDER BY s.updated_at DESC`),
    oldestOfOwner: db.prepare("SELECT id FROM sessions WHERE owner = ? ORDER BY updated_at DESC, rowid DESC LIMIT -1 OFFSET ?"),
    messages: db.prepare("SELECT body FROM messages WHERE session_id = ? ORDER BY seq"),
    roles: db.prepare("SELECT seq, role FROM messages WHERE session_id = ? ORDER BY seq"),
    lastSeq: db.prepare("SELECT coalesce(max(seq), 0) AS seq FROM messages WHERE session_id = ?"),
    addMessage: db.prepare("INSERT INTO messages (session_id, seq, role, body, created_at) VALUES (?, ?, ?, ?, ?)"),
    dropMessage: db.prepare("DELETE FROM messages WHERE session_id = ? AND seq = ?"),
    touch: db.prepare("UPDATE sessions SET updated_at = ?, model = ? WHERE id = ?"),
    remove: db.prepare("DELETE FROM sessions WHERE id = ? AND owner = ?"),
    removeById: db.prepare("DELETE FROM sessions WHERE id = ?"),
    expire: db.prepare("DELETE FROM sessions WHERE updated_at < ?"),
  };

  const transaction = <T>(work: () => T): T => {
    db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      db.exec("COMMIT");
      return result;
    } catch (err) {
      db.exec("ROLLBACK");
      throw err;
    }
  };
  const oldest = (now: number) => now - limits.ttlMs;
  const summary = (r: SessionRow): SessionSummary => ({
    session_id: r.id,
    model: r.model,
    created_at: new Date(r.created_at).toISOString(),
    updated_at: new Date(r.updated_at).toISOString(),
    messages: r.messages,
  });
  const addMessages = (id: string, from: number, messages: ChatMessage[], now: number) => {
    messages.forEach((m, i) => q.addMessage.run(id, from + i + 1, m.role, JSON.stringify(m), now));
  };

  return {
    create(owner, model, system) {
      // 18 random bytes: 144 bits, unguessable; base64url keeps it URL-safe.
      const id = `chat_${randomBytes(18).toString("base64url")}`;
      const now = Date.now();
      return transaction(() => {
        q.insert.run(id, owner, model, now, now);
        if (system) addMessages(id, 0, [{ role: "system", content: system }], now);
        const evicted = (q.oldestOfOwner.all(owner, limits.maxSessionsPerKey) as { id: string }[]).map((r) => r.id);
        for (const old of evicted) q.removeById.run(old);
        return { id, evicted };
      });
    },
    find(id, owner) {
      const row = q.find.get(id, owner, oldest(Date.now())) as SessionRow | undefined;
      return row ? summary(row) : undefined;
    },
    messages(id) {
      return (q.messages.all(id) as { body: string }[]).map((r) => JSON.parse(r.body) as ChatMessage);
    },
    append(id, model, messages) {
      const now = Date.now();
      transaction(() => {
        const last = (q.lastSeq.get(id) as { seq: number }).seq;
        addMessages(id, last, messages, now);
        for (const seq of seqsToDrop(q.roles.all(id) as unknown as StoredRole[], limits.maxMessages)) q.dropMessage.run(id, seq);
        q.touch.run(now, model, id);
      });
    },
    list(owner) {
      return (q.list.all(owner, oldest(Date.now())) as unknown as SessionRow[]).map(summary);
    },
    remove(id, owner) {
      return Number(q.remove.run(id, owner).changes) > 0;
    },
    expire(now = Date.now()) {
      return Number(q.expire.run(oldest(now)).changes);
    },
    close() {
      db.close();
    },
  };
}
