/**
 * Scenario 6, what limits cost on the hot path (issue 14): our gateway four times over, in one run,
 * in front of the same upstream: limits off with usage records off, limits off (usage in SQLite, the
 * default), limits in memory, and limits in Redis (a redis-server of this run on 127.0.0.1). Two
 * measures, each with the configurations taking turns so that drift on the machine hits all alike:
 * sequential non-streaming completions as in scenario 1 (latency added over direct), then
 * autocannon at a fixed concurrency (throughput). The report gives both as ratios to "limits off".
 *
 * All four gateways run at once on the contestant's core; only the one being measured has traffic.
 * Redis goes on the harness's core with the upstream: a service the gateway talks to over TCP, as in
 * production it would be on another host, not one sharing the gateway's core.
 */
import { execFileSync } from "node:child_process";
import { startRedis, type RedisProcess } from "@mcpgw/test-support";
import { MCPGW_PACKAGE, startGatewayAt } from "../contestants/mcpgw.ts";
import { LIMITS_VARIANTS, type BenchResults, type Contestant, type LimitsVariant, type StartContext } from "../types.ts";
import { BENCH_KEY_ENV, BENCH_LIMITS_KEY, limitsConfig, loadFigures, sequentialFigures } from "./limits-config.ts";
import { load } from "./saturation.ts";
import { interleavedRounds, type SequentialOptions } from "./sequential.ts";

export interface LimitsOptions extends SequentialOptions {
  /** The load part: autocannon at `connections`, `loadRounds` turns of `stepDurationS` each per configuration. */
  connections: number;
  stepDurationS: number;
  loadRounds: number;
}

export async function runLimits(direct: Contestant, ctx: StartContext & { harnessCpu: number }, opts: LimitsOptions): Promise<NonNullable<BenchResults["limits"]>> {
  const unavailable: Partial<Record<LimitsVariant, string>> = {};
  let redis: RedisProcess | undefined;
  try {
    redis = await startPinnedRedis(ctx.harnessCpu);
    ctx.log(`limits: redis-server on ${redis.url} (pid ${redis.pid}, core ${ctx.harnessCpu})`);
  } catch (err) {
    unavailable.redis = `redis-server could not start: ${String((err as Error).message ?? err).split("\n")[0]}`;
    ctx.log(`limits: ${unavailable.redis}; the report says so`);
  }
  const gateways: Awaited<ReturnType<typeof startGatewayAt<LimitsVariant>>>[] = [];
  try {
    for (const v of LIMITS_VARIANTS) {
      if (v.id === "redis" && !redis) continue;
      const config = limitsConfig(v.id, { upstreamOrigin: ctx.upstreamOrigin, redisUrl: redis?.url });
      try {
        gateways.push(await startGatewayAt(MCPGW_PACKAGE, v.id, v.label, ctx, { config, env: { [BENCH_KEY_ENV]: BENCH_LIMITS_KEY }, key: BENCH_LIMITS_KEY }));
      } catch (err) {
        // A configuration the gateway refuses (a store not built yet) is reported, not fatal: the others still compare.
        unavailable[v.id] = `the gateway did not start: ${String((err as Error).message ?? err).split("\n").slice(0, 3).join(" ")}`;
        ctx.log(`limits: ${v.id}: ${unavailable[v.id]}`);
      }
    }
    ctx.log(`limits: ${gateways.map((g) => `${g.id} (pid ${g.pid})`).join(", ")} started`);
    const rounds = await interleavedRounds([direct, ...gateways], { ...opts, label: "limits, sequential" });
    const byVariant = sequentialFigures(rounds, gateways.map((g) => g.id));

    const steps = new Map<LimitsVariant, Awaited<ReturnType<typeof load>>[]>(gateways.map((g) => [g.id, []]));
    for (const g of gateways) await load(g, opts.connections, Math.min(2, opts.stepDurationS)); // warm-up at load, not recorded
    for (let r = 0; r < opts.loadRounds; r++) {
      const order = gateways.map((_, i) => gateways[(i + r) % gateways.length]!);
      for (const g of order) {
        const step = await load(g, opts.connections, opts.stepDurationS);
        steps.get(g.id)!.push(step);
        opts.log(`limits, load: round ${r + 1}/${opts.loadRounds}: ${g.id} at ${opts.connections} connections: ${Math.round(step.rps)} req/s, p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, ${step.errors + step.non2xx} errors`);
      }
    }
    return {
      rounds: opts.rounds,
      requestsPerRound: opts.requestsPerRound,
      byVariant,
      load: { connections: opts.connections, stepDurationS: opts.stepDurationS, rounds: opts.loadRounds, byVariant: loadFigures(steps) },
      unavailable,
    };
  } finally {
    for (const g of gateways) await g.stop();
    await redis?.stop();
  }
}

/** test-support's redis-server (Debian's, installed by scripts/redis-tools.sh when missing), every thread moved to the harness's core. */
async function startPinnedRedis(cpu: number): Promise<RedisProcess> {
  const redis = await startRedis();
  try {
    execFileSync("taskset", ["-a", "-p", "-c", String(cpu), String(redis.pid)], { stdio: "ignore" });
  } catch (err) {
    await redis.stop();
    throw err;
  }
  return redis;
}
