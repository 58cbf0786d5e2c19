/**
 * Budget periods in UTC, so every replica and every time zone agrees on when a month begins. A
 * period's id names its start: spend is kept per id, and a new period starts from nothing without
 * any job resetting counters.
 */
import type { BudgetPeriod } from "./types.ts";

export interface PeriodWindow {
  id: string;
  startsAt: number;
  /** undefined: `total` never ends. */
  resetsAt: number | undefined;
}

export function periodOf(period: BudgetPeriod, now: number): PeriodWindow {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  switch (period) {
    case "total":
      return { id: "total", startsAt: 0, resetsAt: undefined };
    case "day": {
      const start = Date.UTC(y, m, d.getUTCDate());
      return { id: new Date(start).toISOString().slice(0, 10), startsAt: start, resetsAt: start + 86_400_000 };
    }
    case "week": {
      // ISO weeks begin on Monday.
      const start = Date.UTC(y, m, d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
      return { id: `week-${new Date(start).toISOString().slice(0, 10)}`, startsAt: start, resetsAt: start + 7 * 86_400_000 };
    }
    case "month": {
      const start = Date.UTC(y, m, 1);
      return { id: new Date(start).toISOString().slice(0, 7), startsAt: start, resetsAt: Date.UTC(y, m + 1, 1) };
    }
  }
}
