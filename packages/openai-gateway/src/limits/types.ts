/**
 * What a limit store answers, whichever keeps the state (this process's memory, or Redis shared by
 * replicas): a request's scopes (its key, its model) and budget are admitted together or not at all,
 * and the grant settles once, when the request ends, to what it really used.
 */
import type { KeyLimits } from "../config/types.ts";

/** One set of limits a request counts against: `key:NAME` or `model:NAME`. */
export interface RateScope {
  id: string;
  /** How an error names it: "key 'web-app'", "model 'gpt-4o'". */
  label: string;
  limits: KeyLimits;
}

export type BudgetPeriod = "day" | "week" | "month" | "total";

/** A key's spend in one period, in integer micro-dollars (1 USD = 1,000,000): sums stay exact. */
export interface BudgetScope {
  /** `budget:KEY:PERIOD-ID`: a new period starts from nothing. */
  id: string;
  label: string;
  limitMicros: number;
  /** When this period ends (epoch ms); undefined: never (`total`). */
  resetsAt: number | undefined;
}

export interface Ask {
  scopes: RateScope[];
  budget: BudgetScope | undefined;
  /** Tokens reserved up front (the prompt's estimate and its completion cap). */
  tokens: number;
  /** Cost reserved up front, micro-dollars. */
  costMicros: number;
}

/** One limit's state after an admission: what OpenAI's x-ratelimit-* headers say. */
export interface LimitState {
  limit: number;
  remaining: number;
  /** Until the limit is whole again. */
  resetMs: number;
}

export type Refusal =
  | { kind: "requests" | "tokens"; scope: string; limit: number; requested: number; used: number; retryAfterMs: number; hopeless: boolean }
  | { kind: "concurrency"; scope: string; limit: number; used: number; retryAfterMs: number; hopeless: false }
  | { kind: "budget"; scope: string; limitMicros: number; spentMicros: number; requestedMicros: number; resetsAt: number | undefined }
  /** The shared store cannot be reached and a budget must not be guessed at: fail closed. */
  | { kind: "unavailable"; retryAfterMs: number };

export interface Grant {
  /** The scope with the fewest requests left, and the one with the fewest tokens left. */
  requests: LimitState | undefined;
  tokens: LimitState | undefined;
  /** The budget's spend with this request's reservation in it; undefined without a budget. */
  spentMicros: number | undefined;
  /** Ends the request: the lease goes back, tokens and cost settle to what was used. Once only; never throws. */
  settle(tokens: number, costMicros: number): void;
}

/** A scope's state without asking for anything (GET /usage/limits). */
export interface ScopeState {
  requests: LimitState | undefined;
  tokens: LimitState | undefined;
  inFlight: number;
}

export interface LimitStore {
  /** Which store answers: "memory", "redis", or "local" while Redis is out of reach. */
  readonly kind: string;
  admit(ask: Ask): Promise<Grant | Refusal>;
  peek(scopes: RateScope[], budget: BudgetScope | undefined): Promise<{ scopes: ScopeState[]; spentMicros: number | undefined }>;
  close(): Promise<void>;
}

export const isRefusal = (r: Grant | Refusal): r is Refusal => "kind" in r;
