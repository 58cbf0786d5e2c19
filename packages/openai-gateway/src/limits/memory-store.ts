/**
 * Limits kept in this process: exact for one gateway process, and what a replica falls back to
 * while Redis is out of reach. Synchronous inside: the check of every scope and the reservation
 * cannot interleave with another request's, so concurrent requests cannot overshoot.
 */
import { gcra, settleTat, stateOf, tightest, usedOf } from "./gcra.ts";
import type { Ask, BudgetScope, Grant, LimitStore, RateScope, Refusal, ScopeState } from "./types.ts";

interface ScopeCounters {
  requestsTat: number;
  tokensTat: number;
  inFlight: number;
}

export class MemoryLimitStore implements LimitStore {
  readonly kind: string = "memory";
  readonly #scopes = new Map<string, ScopeCounters>();
  readonly #spent = new Map<string, { micros: number; resetsAt: number | undefined }>();
  readonly #now: () => number;
  readonly #sweeper: NodeJS.Timeout;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#sweeper = setInterval(() => this.sweep(), 60_000);
    this.#sweeper.unref();
  }

  admit(ask: Ask): Promise<Grant | Refusal> {
    return Promise.resolve(this.admitNow(ask));
  }

  /** The same, synchronously (the fallback store and the tests use it). */
  admitNow(ask: Ask): Grant | Refusal {
    const now = this.#now();
    const counters = ask.scopes.map((s) => this.#scopes.get(s.id) ?? { requestsTat: now, tokensTat: now, inFlight: 0 });
    const next: { requests?: number; tokens?: number }[] = [];
    // First every check, then every change: refused by one scope, a request has used none of them.
    for (const [i, scope] of ask.scopes.entries()) {
      const c = counters[i]!;
      const { rpm, tpm, concurrency } = scope.limits;
      if (concurrency !== undefined && c.inFlight >= concurrency) {
        return { kind: "concurrency", scope: scope.label, limit: concurrency, used: c.inFlight, retryAfterMs: 1000, hopeless: false };
      }
      const requests = rpm === undefined ? undefined : gcra(c.requestsTat, now, rpm, 1);
      if (requests && !requests.ok) return { kind: "requests", scope: scope.label, limit: rpm!, requested: 1, used: usedOf(c.requestsTat, now, rpm!), retryAfterMs: requests.retryAfterMs, hopeless: false };
      const tokens = tpm === undefined ? undefined : gcra(c.tokensTat, now, tpm, ask.tokens);
      if (tokens && !tokens.ok) {
        return { kind: "tokens", scope: scope.label, limit: tpm!, requested: ask.tokens, used: usedOf(c.tokensTat, now, tpm!), retryAfterMs: tokens.retryAfterMs, hopeless: ask.tokens > tpm! };
      }
      next.push({ requests: requests?.tat, tokens: tokens?.tat });
    }
    const budget = ask.budget && this.#budgetOf(ask.budget);
    if (ask.budget && budget!.micros + ask.costMicros > ask.budget.limitMicros) {
      return { kind: "budget", scope: ask.budget.label, limitMicros: ask.budget.limitMicros, spentMicros: budget!.micros, requestedMicros: ask.costMicros, resetsAt: ask.budget.resetsAt };
    }
    for (const [i, scope] of ask.scopes.entries()) {
      const c = counters[i]!;
      if (next[i]!.requests !== undefined) c.requestsTat = next[i]!.requests!;
      if (next[i]!.tokens !== undefined) c.tokensTat = next[i]!.tokens!;
      c.inFlight++;
      this.#scopes.set(scope.id, c);
    }
    if (budget) budget.micros += ask.costMicros;
    let settled = false;
    return {
      requests: tightest(ask.scopes.map((s, i) => (s.limits.rpm === undefined ? undefined : stateOf(counters[i]!.requestsTat, now, s.limits.rpm)))),
      tokens: tightest(ask.scopes.map((s, i) => (s.limits.tpm === undefined ? undefined : stateOf(counters[i]!.tokensTat, now, s.limits.tpm)))),
      spentMicros: budget?.micros,
      settle: (tokens, costMicros) => {
        if (settled) return;
        settled = true;
        const at = this.#now();
        for (const [i, scope] of ask.scopes.entries()) {
          const c = counters[i]!;
          c.inFlight--;
          const tpm = scope.limits.tpm;
          if (tpm !== undefined && tokens !== ask.tokens) c.tokensTat = settleTat(c.tokensTat, at, tpm, tokens - ask.tokens);
        }
        if (budget) budget.micros = Math.max(0, budget.micros + costMicros - ask.costMicros);
      },
    };
  }

  peek(scopes: RateScope[], budget: BudgetScope | undefined): Promise<{ scopes: ScopeState[]; spentMicros: number | undefined }> {
    const now = this.#now();
    return Promise.resolve({
      scopes: scopes.map((s) => {
        const c = this.#scopes.get(s.id);
        return {
          requests: s.limits.rpm === undefined ? undefined : stateOf(c?.requestsTat ?? now, now, s.limits.rpm),
          tokens: s.limits.tpm === undefined ? undefined : stateOf(c?.tokensTat ?? now, now, s.limits.tpm),
          inFlight: c?.inFlight ?? 0,
        };
      }),
      spentMicros: budget && this.#budgetOf(budget).micros,
    });
  }

  close(): Promise<void> {
    clearInterval(this.#sweeper);
    return Promise.resolve();
  }

  #budgetOf(scope: BudgetScope): { micros: number; resetsAt: number | undefined } {
    let b = this.#spent.get(scope.id);
    if (!b) this.#spent.set(scope.id, (b = { micros: 0, resetsAt: scope.resetsAt }));
    return b;
  }

  /** Scopes with nothing in flight and every limit whole again, and ended periods, are forgotten: the maps do not grow with keys seen once. */
  sweep(): void {
    const now = this.#now();
    for (const [id, s] of this.#scopes) if (s.inFlight === 0 && s.requestsTat <= now && s.tokensTat <= now) this.#scopes.delete(id);
    for (const [id, b] of this.#spent) if (b.resetsAt !== undefined && b.resetsAt <= now) this.#spent.delete(id);
  }
}
