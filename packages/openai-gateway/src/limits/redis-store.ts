/**
 * Limits kept in Redis, shared by every replica: one atomic script admits all of a request's scopes
 * and its budget, so N replicas enforce a key's limits exactly as one process would. Leases of
 * requests in flight expire unless renewed (every third of limits.leaseTtl while the request runs),
 * so a replica that crashes gives its places back by itself.
 *
 * When Redis is out of reach, a request fails fast (no offline queue) and is limited in this
 * process instead, at limit / limits.expectedReplicas, so the replicas together stay near the limit;
 * a request with a budget is refused (a budget cannot be checked locally: fail closed). Both are
 * logged once per outage and counted. ioredis reconnects by itself; the first request after it is
 * ready goes to Redis again.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { tightest } from "./gcra.ts";
import { MemoryLimitStore } from "./memory-store.ts";
import { ADMIT, PEEK, RENEW, SETTLE } from "./redis-scripts.ts";
import type { Ask, BudgetScope, Grant, LimitState, LimitStore, RateScope, Refusal, ScopeState } from "./types.ts";

interface Log {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface RedisStoreOptions {
  url: string;
  leaseTtlMs: number;
  expectedReplicas: number;
  log: Log;
  /** Key prefix: replicas of one gateway share it. */
  prefix?: string;
  /** A request was limited locally because Redis was out of reach. */
  onFallback?(): void;
  onStoreError?(): void;
  onRecovered?(): void;
}

type Scripted = Redis & Record<"mcpgwAdmit" | "mcpgwSettle" | "mcpgwRenew" | "mcpgwPeek", (...args: (string | number)[]) => Promise<unknown>>;

export class RedisLimitStore implements LimitStore {
  readonly #redis: Scripted;
  readonly #opts: RedisStoreOptions;
  readonly #prefix: string;
  /** Where requests are limited while Redis is out of reach. */
  readonly #local = new MemoryLimitStore();
  #down = false;

  constructor(opts: RedisStoreOptions) {
    this.#opts = opts;
    this.#prefix = opts.prefix ?? "mcpgw:";
    this.#redis = new Redis(opts.url, {
      // Fail at once while disconnected rather than queue: a request must not wait for Redis.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(1000, 100 * times),
    }) as Scripted;
    // Without a listener ioredis prints every connection error; the outage is logged once below.
    this.#redis.on("error", () => {});
    for (const [name, lua] of [["mcpgwAdmit", ADMIT], ["mcpgwSettle", SETTLE], ["mcpgwRenew", RENEW], ["mcpgwPeek", PEEK]] as const) this.#redis.defineCommand(name, { lua });
  }

  get kind(): string {
    return this.#down ? "local" : "redis";
  }

  /** True while Redis answers. */
  get up(): boolean {
    return this.#redis.status === "ready" && !this.#down;
  }

  async admit(ask: Ask): Promise<Grant | Refusal> {
    if (this.#redis.status !== "ready") return this.#fallback(ask, "not connected");
    const lease = randomUUID();
    const keys = this.#keys(ask.scopes, ask.budget);
    const limit = ask.budget ? ask.budget.limitMicros : -1;
    const expires = ask.budget?.resetsAt ?? 0;
    let reply: (string | number)[];
    try {
      reply = (await this.#redis.mcpgwAdmit(keys.length, ...keys, ask.scopes.length, ask.tokens, ask.costMicros, lease, this.#opts.leaseTtlMs, limit, expires, ...limitArgs(ask.scopes))) as (string | number)[];
    } catch (err) {
      this.#opts.onStoreError?.();
      return this.#fallback(ask, (err as Error).message);
    }
    this.#recovered();
    const [kind, i, a, b, c] = reply as [string, number, number, number, number];
    if (kind === "concurrency") return { kind, scope: ask.scopes[i - 1]!.label, limit: a, used: b, retryAfterMs: c, hopeless: false };
    if (kind === "requests") return { kind, scope: ask.scopes[i - 1]!.label, limit: a, requested: 1, used: b, retryAfterMs: c, hopeless: false };
    if (kind === "tokens") return { kind, scope: ask.scopes[i - 1]!.label, limit: a, requested: ask.tokens, used: b, retryAfterMs: c, hopeless: ask.tokens > a };
    if (kind === "budget") return { kind, scope: ask.budget!.label, limitMicros: a, spentMicros: b, requestedMicros: c, resetsAt: ask.budget!.resetsAt };
    const states = reply.slice(2).map(Number);
    const leased = ask.scopes.flatMap((s, n) => (s.limits.concurrency ? [keys[3 * n + 2]!] : []));
    // Renewed while the request runs: a lease outlives its replica by leaseTtl at most.
    const renew = leased.length
      ? setInterval(() => {
          this.#redis.mcpgwRenew(leased.length, ...leased, lease, this.#opts.leaseTtlMs).catch(() => this.#opts.onStoreError?.());
        }, Math.max(100, Math.floor(this.#opts.leaseTtlMs / 3)))
      : undefined;
    renew?.unref();
    let settled = false;
    return {
      requests: tightest(ask.scopes.map((s, n) => header(s.limits.rpm, states[4 * n]!, states[4 * n + 1]!))),
      tokens: tightest(ask.scopes.map((s, n) => header(s.limits.tpm, states[4 * n + 2]!, states[4 * n + 3]!))),
      spentMicros: ask.budget ? Number(reply[1]) : undefined,
      settle: (tokens, costMicros) => {
        if (settled) return;
        settled = true;
        if (renew) clearInterval(renew);
        const args = [ask.scopes.length, tokens - ask.tokens, costMicros - ask.costMicros, lease, ask.budget ? 1 : 0, expires, ...limitArgs(ask.scopes)];
        // A settle that fails is lost (logged and counted): its lease expires by itself.
        this.#redis.mcpgwSettle(keys.length, ...keys, ...args).catch((err: Error) => {
          this.#opts.onStoreError?.();
          this.#opts.log.warn({ err: err.message }, "limit store: a request's settlement was lost (Redis out of reach); its lease expires by itself");
        });
      },
    };
  }

  async peek(scopes: RateScope[], budget: BudgetScope | undefined): Promise<{ scopes: ScopeState[]; spentMicros: number | undefined }> {
    if (this.#redis.status === "ready") {
      try {
        const keys = this.#keys(scopes, budget);
        const reply = ((await this.#redis.mcpgwPeek(keys.length, ...keys, scopes.length, budget ? 1 : 0, ...limitArgs(scopes))) as number[]).map(Number);
        this.#recovered();
        return {
          spentMicros: budget ? reply[0] : undefined,
          scopes: scopes.map((s, n) => ({
            requests: header(s.limits.rpm, reply[1 + 5 * n]!, reply[2 + 5 * n]!),
            tokens: header(s.limits.tpm, reply[3 + 5 * n]!, reply[4 + 5 * n]!),
            inFlight: reply[5 + 5 * n]!,
          })),
        };
      } catch {
        this.#opts.onStoreError?.();
      }
    }
    const local = await this.#local.peek(scopes.map((s) => this.#divided(s)), undefined);
    return { scopes: local.scopes, spentMicros: undefined };
  }

  async close(): Promise<void> {
    await this.#local.close();
    // quit() waits for Redis to answer; while it is out of reach that would hang shutdown.
    if (this.#redis.status === "ready") await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  #keys(scopes: RateScope[], budget: BudgetScope | undefined): string[] {
    const keys = scopes.flatMap((s) => [`${this.#prefix}rq:${s.id}`, `${this.#prefix}tk:${s.id}`, `${this.#prefix}ls:${s.id}`]);
    // A budget key is always passed (the scripts index past the scopes); without a budget it is never read.
    keys.push(`${this.#prefix}${budget ? budget.id : "budget:none"}`);
    return keys;
  }

  #fallback(ask: Ask, reason: string): Grant | Refusal {
    if (!this.#down) {
      this.#down = true;
      this.#opts.log.warn({ reason, expectedReplicas: this.#opts.expectedReplicas }, `limit store unreachable: limiting locally at limit / ${this.#opts.expectedReplicas}; budgets refused`);
    }
    this.#opts.onFallback?.();
    if (ask.budget) return { kind: "unavailable", retryAfterMs: 1000 };
    return this.#local.admitNow({ ...ask, scopes: ask.scopes.map((s) => this.#divided(s)) });
  }

  #recovered(): void {
    if (!this.#down) return;
    this.#down = false;
    this.#opts.log.info({}, "limit store reachable again: limits are shared through Redis");
    this.#opts.onRecovered?.();
  }

  /** A scope's share of its limits while each replica limits alone. */
  #divided(scope: RateScope): RateScope {
    const n = this.#opts.expectedReplicas;
    const part = (v: number | undefined) => (v === undefined ? undefined : Math.max(1, Math.floor(v / n)));
    return { ...scope, limits: { rpm: part(scope.limits.rpm), tpm: part(scope.limits.tpm), concurrency: part(scope.limits.concurrency) } };
  }
}

function limitArgs(scopes: RateScope[]): number[] {
  return scopes.flatMap((s) => [s.limits.rpm ?? 0, s.limits.tpm ?? 0, s.limits.concurrency ?? 0]);
}

function header(limit: number | undefined, remaining: number, resetMs: number): LimitState | undefined {
  return limit === undefined || remaining < 0 ? undefined : { limit, remaining, resetMs };
}
