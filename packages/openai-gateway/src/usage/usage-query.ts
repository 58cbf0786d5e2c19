/**
 * GET /usage's query string, checked: a time range (ISO dates or times, or epoch ms; default the
 * last 30 days), what to group by, JSON or CSV. Then the answer in either shape.
 */
import { badRequest } from "../errors.ts";
import type { GroupBy, UsageGroup, UsageQuery } from "./types.ts";

const DAY_MS = 86_400_000;
const GROUPS: readonly GroupBy[] = ["key", "model", "day"];

export interface UsageParams {
  query: Omit<UsageQuery, "key">;
  format: "json" | "csv";
  /** The key named by `key=`, if any. */
  key: string | undefined;
}

export function parseUsageParams(raw: Record<string, unknown>, now: number): UsageParams {
  const text = (name: string): string | undefined => {
    const v = raw[name];
    if (v === undefined || v === "") return undefined;
    if (typeof v !== "string") throw badRequest(`Give '${name}' once.`, name, "invalid_value");
    return v;
  };
  // `to` is exclusive: by default the millisecond of now is in, so a request that ended just now is too.
  const to = time(text("to"), "to") ?? now + 1;
  const from = time(text("from"), "from") ?? to - 30 * DAY_MS;
  if (from >= to) throw badRequest("'from' must be before 'to'.", "from", "invalid_value");
  const groupBy = (text("group_by") ?? "key,model").split(",").map((g) => g.trim()).filter(Boolean);
  for (const g of groupBy) if (!GROUPS.includes(g as GroupBy)) throw badRequest(`Invalid value for 'group_by': '${g}' (expected a comma-separated list of ${GROUPS.join(", ")}).`, "group_by", "invalid_value");
  const format = text("format") ?? "json";
  if (format !== "json" && format !== "csv") throw badRequest("Invalid value for 'format': expected json or csv.", "format", "invalid_value");
  return { query: { from, to, groupBy: groupBy as GroupBy[] }, format, key: text("key") };
}

/** `2026-12-01` (the start of that UTC day), `2026-12-01T10:00:00Z`, or epoch milliseconds. */
function time(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw badRequest(`Invalid value for '${name}': expected an ISO date or time (2026-12-01, 2026-12-01T10:00:00Z) or epoch milliseconds.`, name, "invalid_value");
  return ms;
}

export interface UsageLine {
  key?: string;
  model?: string;
  day?: string;
  requests: number;
  prompt_tokens: number;
  cached_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost_usd: number;
  partial_requests: number;
  error_requests: number;
}

export function lineOf(g: UsageGroup): UsageLine {
  return {
    ...(g.key !== undefined ? { key: g.key } : {}),
    ...(g.model !== undefined ? { model: g.model } : {}),
    ...(g.day !== undefined ? { day: g.day } : {}),
    requests: g.requests,
    prompt_tokens: g.promptTokens,
    cached_tokens: g.cachedTokens,
    completion_tokens: g.completionTokens,
    total_tokens: g.promptTokens + g.completionTokens,
    cost_usd: g.costMicros / 1e6,
    partial_requests: g.partial,
    error_requests: g.errors,
  };
}

/**
 * RFC 4180 CSV. Our own because it is ten lines: fields are quoted when they need it, and a field a
 * spreadsheet would run as a formula (=, +, -, @ first) is prefixed with ' (model names come from
 * clients, and this file is opened in spreadsheets).
 */
export function toCsv(groupBy: GroupBy[], lines: UsageLine[]): string {
  const columns = [...GROUPS.filter((g) => groupBy.includes(g)), "requests", "prompt_tokens", "cached_tokens", "completion_tokens", "total_tokens", "cost_usd", "partial_requests", "error_requests"] as const;
  const cell = (v: unknown): string => {
    let s = String(v ?? "");
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const rows = lines.map((l) => columns.map((c) => cell((l as unknown as Record<string, unknown>)[c])).join(","));
  return [columns.join(","), ...rows].join("\r\n") + "\r\n";
}
