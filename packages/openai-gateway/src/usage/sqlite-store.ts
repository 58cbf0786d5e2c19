/**
 * Usage records in SQLite through Node's node:sqlite (no native build): the default, a file in the
 * data directory, for one gateway process. WAL, and each batch in one transaction.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { COLUMNS, groupOf, groupQuery, rowValues, USAGE_TABLE, type UsageGroup, type UsageQuery, type UsageRow, type UsageStore } from "./types.ts";

export class SqliteUsageStore implements UsageStore {
  readonly kind = "sqlite" as const;
  readonly #db: DatabaseSync;
  readonly #insert;

  constructor(file: string) {
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    this.#db = new DatabaseSync(file);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    this.#db.exec(USAGE_TABLE);
    this.#insert = this.#db.prepare(`INSERT INTO usage_records (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`);
  }

  insert(rows: UsageRow[]): Promise<void> {
    this.#db.exec("BEGIN");
    try {
      for (const row of rows) this.#insert.run(...rowValues(row));
      this.#db.exec("COMMIT");
    } catch (err) {
      this.#db.exec("ROLLBACK");
      return Promise.reject(err);
    }
    return Promise.resolve();
  }

  query(q: UsageQuery): Promise<UsageGroup[]> {
    const { sql, params } = groupQuery(q);
    // node:sqlite binds `$1` as a named parameter: numbered `?1` binds by position.
    const rows = this.#db.prepare(sql.replace(/\$(\d+)/g, "?$1")).all(...params) as Record<string, unknown>[];
    return Promise.resolve(rows.map(groupOf).filter((g) => g !== undefined));
  }

  prune(before: number): Promise<number> {
    return Promise.resolve(Number(this.#db.prepare("DELETE FROM usage_records WHERE ts < ?").run(before).changes));
  }

  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}
