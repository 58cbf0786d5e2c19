/**
 * Limits kept in Redis, shared by every replica: one atomic script admits all of a request's scopes
 * and its budget, so N replicas enforce a key's limits exactly as one process would. Leases of
 * requests in flight expire unless renewed (every third of leaseTtl while the request runs), so a
 * replica that crashes gives its places back by itself.
 *
 * When Redis is out of reach, a request fails fast (no offline queue, a short command timeout) and
 * is limited in this process instead, at limit / expectedReplicas, so the replicas together stay
 * near the limit; a request with a budget is refused (a budget cannot be checked locally: fail
 * closed). The outage is logged once, and its end once; hooks count both. ioredis reconnects by
 * itself; once it is ready, new requests go to Redis again.
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
  error(obj: object, msg: string): void;
}

export interface RedisStoreOptions {
  /** redis://[user:pass@]host:port[/db] */
  url: string;
  /** How long a lease outlives a replica that stopped renewing it. */
  leaseTtlMs: number;
  /** The replicas sharing this Redis: each takes limit / expectedReplicas while Redis is out of reach. */
  expectedReplicas: number;
  log: Log;
  /** Key prefix (default "mcpgw:"): replicas of one gateway share it. */
  prefix?: string;
  /** A request was limited locally (or refused, with a budget) because Redis was out of reach. */
  onFallback?(reason: string): void;
  /** A command to Redis failed (admit, peek, renew or settle). */
  onStoreError?(): void;
  /** Redis answers again after an outage. */
  onRecovered?(): void;
  /** The local fallback's clock (Redis's own TIME is the clock of the shared state). */
  now?: () => number;
}

/**
 * A period's counter outlives the period's end by this much: a replica whose clock lags Redis's
 * still names the ending period for a moment, and must find its spend there, not a fresh zero.
 */
const BUDGET_KEY_MARGIN_MS = 60 * 60_000;
/** How long the first request waits for the first connection before it is limited locally. */
const FIRST_CONNECT_MS = 1000;

type Scripted = Redis & Record<"mcpgwAdmit" | "mcpgwSettle" | "mcpgwRenew" | "mcpgwPeek", (...args: (string | number)[]) => Promise<unknown>>;

export class RedisLimitStore implements LimitStore {
  readonly #redis: Scripted;
  readonly #opts: RedisStoreOptions;
  readonly #prefix: string;
  /** Where requests are limited while Redis is out of reach. */
  readonly #local: MemoryLimitStore;
  /** Lease renewals of the grants in flight, stopped by their settle or by close(). */
  readonly #renewals = new Set<NodeJS.Timeout>();
  readonly #firstConnect: Promise<void>;
  #down = false;
  #closing = false;

  constructor(opts: RedisStoreOptions) {
    this.#opts = opts;
    this.#prefix = opts.prefix ?? "mcpgw:";
    this.#local = new MemoryLimitStore(opts.now);
    this.#redis = new Redis(opts.url, {
      // Fail at once while disconnected rather than queue: a request must not wait for Redis.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 500,
      connectTimeout: 1000,
      lazyConnect: false,
      // Forever, every 250 ms to 1 s: Redis coming back is noticed within a second.
      retryStrategy: (times) => Math.min(1000, 250 * times),
    }) as Scripted;
    // Without a listener ioredis prints every connection error; the outage is logged once instead.
    this.#redis.on("error", () => {});
    this.#redis.on("ready", () => this.#recovered());
    this.#redis.on("close", () => {
      if (!this.#closing) this.#outage("connection closed");
    });
    this.#firstConnect = new Promise((resolve) => {
      const timer = setTimeout(resolve, FIRST_CONNECT_MS).unref();
      this.#redis.once("ready", () => (clearTimeout(timer), resolve()));
    });
    for (const [name, lua] of [["mcpgwAdmit", ADMIT], ["mcpgwSettle", SETTLE], ["mcpgwRenew", RENEW], ["mcpgwPeek", PEEK]] as const) this.#redis.defineCommand(name, { lua });
  }

  get kind(): string {
    return this.#down ? "local" : "redis";
  }

  /** True while Redis answers (the limit-store-up gauge). */
  get up(): boolean {
    return this.#redis.status === "ready" && !this.#down;
  }

  /** Resolves once Redis first answers, or after a second without it: a launcher may wait for it. */
  connected(): Promise<boolean> {
    return this.#firstConnect.then(() => this.#redis.status === "ready");
  }

  async admit(ask: Ask): Promise<Grant | Refusal> {
    // Requests that arrive while the gateway is still connecting wait for it, briefly.
    if (this.#redis.status === "connecting" || this.#redis.status === "connect") await this.#firstConnect;
    if (this.#redis.status !== "ready") return this.#fallback(ask, `not connected (${this.#redis.status})`);
    const lease = randomUUID();
    const keys = this.#keys(ask.scopes, ask.budget);
    const limit = ask.budget ? ask.budget.limitMicros : -1;
    const expires = ask.budget?.resetsAt === undefined ? 0 : ask.budget.resetsAt + BUDGET_KEY_MARGIN_MS;
    let reply: (string | number)[];
    try {
      reply = (await this.#redis.mcpgwAdmit(keys.length, ...keys, ask.scopes.length, ask.tokens, ask.costMicros, lease, this.#opts.leaseTtlMs, limit, expires, ...limitArgs(ask.scopes))) as (string | number)[];
    } catch (err) {
      // A timeout may still have reserved in Redis: counted twice then, never missed.
      this.#opts.onStoreError?.();
      this.#scriptFailure(err);
      return this.#fallback(ask, (err as Error).message);
    }
    this.#recovered();
    // {kind, scope index (1-based), limit, used or spent, retryAfterMs or cost}, or {'ok', spent, states...}.
    const [i, a, b, c] = reply.slice(1, 5).map(Number) as [number, number, number, number];
    const scope = ask.scopes[i - 1]?.label ?? "";
    switch (reply[0]) {
      case "concurrency":
        return { kind: "concurrency", scope, limit: a, used: b, retryAfterMs: c, hopeless: false };
      case "requests":
        return { kind: "requests", scope, limit: a, requested: 1, used: b, retryAfterMs: c, hopeless: false };
      case "tokens":
        return { kind: "tokens", scope, limit: a, requested: ask.tokens, used: b, retryAfterMs: c, hopeless: ask.tokens > a };
      case "budget":
        return { kind: "budget", scope: ask.budget!.label, limitMicros: a, spentMicros: b, requestedMicros: c, resetsAt: ask.budget!.resetsAt };
    }
    const states = reply.slice(2).map(Number);
    const leased = ask.scopes.flatMap((s, n) => (s.limits.concurrency ? [keys[3 * n + 2]!] : []));
    const renew = leased.length ? this.#renewing(leased, lease) : undefined;
    let settled = false;
    return {
      requests: tightest(ask.scopes.map((s, n) => header(s.limits.rpm, states[4 * n]!, states[4 * n + 1]!))),
      tokens: tightest(ask.scopes.map((s, n) => header(s.limits.tpm, states[4 * n + 2]!, states[4 * n + 3]!))),
      spentMicros: ask.budget ? Number(reply[1]) : undefined,
      settle: (tokens, costMicros) => {
        if (settled) return;
        settled = true;
        if (renew) this.#stopRenewing(renew);
        const args = [ask.scopes.length, tokens - ask.tokens, costMicros - ask.costMicros, lease, ask.budget ? 1 : 0, expires, ...limitArgs(ask.scopes)];
        // A settle that fails is lost (logged and counted): its lease expires by itself.
        this.#redis.mcpgwSettle(keys.length, ...keys, ...args).catch((err: unknown) => {
          this.#opts.onStoreError?.();
          this.#opts.log.warn({ err: (err as Error).message }, "limit store: a request's settlement was lost (Redis out of reach); its lease expires by itself");
        });
      },
    };
  }

  async peek(scopes: RateScope[], budget: BudgetScope | undefined): Promise<{ scopes: ScopeState[]; spentMicros: number | undefined }> {
    if (this.#redis.status === "connecting" || this.#redis.status === "connect") await this.#firstConnect;
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
      } catch (err) {
        this.#opts.onStoreError?.();
        this.#scriptFailure(err);
        this.#outage((err as Error).message);
      }
    }
    const local = await this.#local.peek(scopes.map((s) => this.#divided(s)), undefined);
    return { scopes: local.scopes, spentMicros: undefined };
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#renewals) clearInterval(timer);
    this.#renewals.clear();
    await this.#local.close();
    // quit() waits for Redis to answer; while it is out of reach that would hang shutdown.
    if (this.#redis.status === "ready") await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  /** Per scope its requests tat, tokens tat and leases; then the budget's counter. */
  #keys(scopes: RateScope[], budget: BudgetScope | undefined): string[] {
    const keys = scopes.flatMap((s) => [`${this.#prefix}rq:${s.id}`, `${this.#prefix}tk:${s.id}`, `${this.#prefix}ls:${s.id}`]);
    // A budget key is always passed (the scripts index past the scopes); without a budget it is never read.
    keys.push(`${this.#prefix}${budget ? budget.id : "budget:none"}`);
    return keys;
  }

  /** Renewed while the request runs: a lease outlives its replica by leaseTtl at most. */
  #renewing(leased: string[], lease: string): NodeJS.Timeout {
    const timer = setInterval(() => {
      this.#redis.mcpgwRenew(leased.length, ...leased, lease, this.#opts.leaseTtlMs).catch(() => this.#opts.onStoreError?.());
    }, Math.max(100, Math.floor(this.#opts.leaseTtlMs / 3)));
    timer.unref();
    this.#renewals.add(timer);
    return timer;
  }

  #stopRenewing(timer: NodeJS.Timeout): void {
    clearInterval(timer);
    this.#renewals.delete(timer);
  }

  #fallback(ask: Ask, reason: string): Grant | Refusal {
    this.#outage(reason);
    this.#opts.onFallback?.(reason);
    if (ask.budget) return { kind: "unavailable", retryAfterMs: 1000 };
    return this.#local.admitNow({ ...ask, scopes: ask.scopes.map((s) => this.#divided(s)) });
  }

  #outage(reason: string): void {
    if (this.#down) return;
    this.#down = true;
    this.#opts.log.warn({ reason, expectedReplicas: this.#opts.expectedReplicas }, `limit store unreachable: limiting locally at limit / ${this.#opts.expectedReplicas}; budgets refused`);
  }

  #recovered(): void {
    if (!this.#down || this.#redis.status !== "ready") return;
    this.#down = false;
    this.#opts.log.info({}, "limit store reachable again: limits are shared through Redis");
    this.#opts.onRecovered?.();
  }

  /** Redis answered with an error of its own (a script's, a wrong key type): a fault, not an outage. */
  #scriptFailure(err: unknown): void {
    if ((err as Error)?.name === "ReplyError" && !this.#down) this.#opts.log.error({ err: (err as Error).message }, "limit store: Redis refused a limit script");
  }

  /** A scope's share of its limits while each replica limits alone. */
  #divided(scope: RateScope): RateScope {
    const n = this.#opts.expectedReplicas;
    const part = (v: number | undefined) => (v === undefined ? undefined : Math.max(1, Math.floor(v / n)));
    return { ...scope, limits: { rpm: part(scope.limits.rpm), tpm: part(scope.limits.tpm), concurrency: part(scope.limits.concurrency) } };
  }
}

/** Per scope rpm, tpm and concurrency, 0 for none (the scripts' ARGV after their own). */
function limitArgs(scopes: RateScope[]): number[] {
  return scopes.flatMap((s) => [s.limits.rpm ?? 0, s.limits.tpm ?? 0, s.limits.concurrency ?? 0]);
}

function header(limit: number | undefined, remaining: number, resetMs: number): LimitState | undefined {
  return limit === undefined || remaining < 0 ? undefined : { limit, remaining, resetMs };
}
