/**
 * Usage records in Postgres (the npm `pg` client), which replicas share: every replica writes its
 * own rows, and /usage on any of them reads all. A batch is one multi-row INSERT; the table and its
 * indexes are created at start if missing.
 */
import pg from "pg";
import { COLUMNS, groupOf, groupQuery, rowValues, USAGE_TABLE, type UsageGroup, type UsageQuery, type UsageRow, type UsageStore } from "./types.ts";

/** Postgres allows 65535 parameters a statement: batches are split well below it. */
const ROWS_PER_INSERT = 1000;

export class PostgresUsageStore implements UsageStore {
  readonly kind = "postgres" as const;
  readonly #pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects and creates the table; a database that cannot be reached at start stops the start, with its reason. */
  static async connect(url: string): Promise<PostgresUsageStore> {
    const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000 });
    // An idle client's error (the server restarted) is reported here instead of crashing the process; the pool replaces it.
    pool.on("error", () => {});
    try {
      // Replicas starting together on an empty database would race in CREATE TABLE IF NOT EXISTS
      // (Postgres then fails one with a duplicate pg_type row): one at a time, under a lock that
      // the statements' one implicit transaction holds and releases.
      await pool.query(`SELECT pg_advisory_xact_lock(hashtext('mcpgw.usage_records'));\n${USAGE_TABLE}`);
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Error(`usage.store: cannot use Postgres at ${redact(url)}: ${(err as Error).message}`);
    }
    return new PostgresUsageStore(pool);
  }

  async insert(rows: UsageRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const batch = rows.slice(i, i + ROWS_PER_INSERT);
      const values: unknown[] = [];
      const tuples = batch.map((row) => {
        const start = values.length;
        values.push(...rowValues(row));
        return `(${COLUMNS.map((_, c) => `$${start + c + 1}`).join(", ")})`;
      });
      await this.#pool.query(`INSERT INTO usage_records (${COLUMNS.join(", ")}) VALUES ${tuples.join(", ")}`, values);
    }
  }

  async query(q: UsageQuery): Promise<UsageGroup[]> {
    const { sql, params } = groupQuery(q);
    const result = await this.#pool.query(sql, params);
    return result.rows.map(groupOf).filter((g) => g !== undefined);
  }

  async prune(before: number): Promise<number> {
    return (await this.#pool.query("DELETE FROM usage_records WHERE ts < $1", [before])).rowCount ?? 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/** A URL without its password, for an error message. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(an invalid URL)";
  }
}
