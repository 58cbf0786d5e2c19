/**
 * Usage records: one row per request that reached a model, written in batches off the request path
 * (recorder.ts) to SQLite in this process or to Postgres that replicas share. Both stores answer the
 * same queries with the same SQL (only the placeholders differ), so /usage reads alike on either.
 */

export interface UsageRow {
  /** When the request ended, epoch ms. */
  ts: number;
  /** Its UTC day, YYYY-MM-DD: stored so grouping by day is the same SQL on every store. */
  day: string;
  requestId: string;
  key: string;
  route: string;
  /** The model the client asked for. */
  model: string;
  /** The upstream model and provider that answered (the last one, for a tool loop's rounds); null when none did. */
  servedModel: string | null;
  provider: string | null;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  costMicros: number;
  status: number;
  /** The answer was cut short (the client left, or the stream failed) before the upstream said its usage: tokens counted from what was sent. */
  partial: boolean;
}

export type GroupBy = "key" | "model" | "day";

export interface UsageQuery {
  from: number;
  to: number;
  /** Only this key's rows; undefined: every key's (admin keys). */
  key: string | undefined;
  groupBy: GroupBy[];
}

export interface UsageGroup {
  key?: string;
  model?: string;
  day?: string;
  requests: number;
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  costMicros: number;
  /** How many of the requests were partial. */
  partial: number;
  /** How many were answered with an error status. */
  errors: number;
}

export interface UsageStore {
  readonly kind: "sqlite" | "postgres";
  insert(rows: UsageRow[]): Promise<void>;
  query(q: UsageQuery): Promise<UsageGroup[]>;
  /** Deletes rows older than `before`; returns how many. */
  prune(before: number): Promise<number>;
  close(): Promise<void>;
}

export const COLUMNS = [
  "ts", "day", "request_id", "key", "route", "model", "served_model", "provider",
  "prompt_tokens", "cached_tokens", "completion_tokens", "cost_micros", "status", "partial",
] as const;

/** The table both stores create; BIGINT is SQLite's INTEGER too. */
export const USAGE_TABLE = `
CREATE TABLE IF NOT EXISTS usage_records (
  ts BIGINT NOT NULL,
  day TEXT NOT NULL,
  request_id TEXT NOT NULL,
  key TEXT NOT NULL,
  route TEXT NOT NULL,
  model TEXT NOT NULL,
  served_model TEXT,
  provider TEXT,
  prompt_tokens BIGINT NOT NULL,
  cached_tokens BIGINT NOT NULL,
  completion_tokens BIGINT NOT NULL,
  cost_micros BIGINT NOT NULL,
  status INTEGER NOT NULL,
  partial INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_records_by_ts ON usage_records (ts);
CREATE INDEX IF NOT EXISTS usage_records_by_key_ts ON usage_records (key, ts);
`;

export function rowValues(r: UsageRow): (string | number | null)[] {
  return [r.ts, r.day, r.requestId, r.key, r.route, r.model, r.servedModel, r.provider, r.promptTokens, r.cachedTokens, r.completionTokens, r.costMicros, r.status, r.partial ? 1 : 0];
}

/**
 * The grouped query, with `$1`-style placeholders (SQLite takes them too, as numbered parameters).
 * Group columns come from a fixed list, never from the request's text.
 */
export function groupQuery(q: UsageQuery): { sql: string; params: (string | number)[] } {
  const groups = (["key", "model", "day"] as const).filter((g) => q.groupBy.includes(g));
  const params: (string | number)[] = [q.from, q.to];
  let where = "ts >= $1 AND ts < $2";
  if (q.key !== undefined) {
    params.push(q.key);
    where += " AND key = $3";
  }
  const select = [
    ...groups,
    "COUNT(*) AS requests",
    "SUM(prompt_tokens) AS prompt_tokens",
    "SUM(cached_tokens) AS cached_tokens",
    "SUM(completion_tokens) AS completion_tokens",
    "SUM(cost_micros) AS cost_micros",
    "SUM(partial) AS partial",
    "SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors",
  ];
  const group = groups.length ? ` GROUP BY ${groups.join(", ")} ORDER BY ${groups.join(", ")}` : "";
  return { sql: `SELECT ${select.join(", ")} FROM usage_records WHERE ${where}${group}`, params };
}

/** A result row of groupQuery, from either driver (Postgres returns SUMs of BIGINT as strings). */
export function groupOf(row: Record<string, unknown>): UsageGroup | undefined {
  const n = (v: unknown) => Number(v ?? 0);
  if (n(row.requests) === 0) return undefined;
  return {
    ...(row.key !== undefined ? { key: String(row.key) } : {}),
    ...(row.model !== undefined ? { model: String(row.model) } : {}),
    ...(row.day !== undefined ? { day: String(row.day) } : {}),
    requests: n(row.requests),
    promptTokens: n(row.prompt_tokens),
    cachedTokens: n(row.cached_tokens),
    completionTokens: n(row.completion_tokens),
    costMicros: n(row.cost_micros),
    partial: n(row.partial),
    errors: n(row.errors),
  };
}
