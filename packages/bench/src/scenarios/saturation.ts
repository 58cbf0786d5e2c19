/**
 * Scenario 2, saturation: autocannon at rising concurrency, one contestant at a time, until
 * throughput stops rising; the peak step is the contestant's figure.
 */
import autocannon from "autocannon";
import { CHAT_BODY, type Target } from "../load/requests.ts";
import type { BenchResults, Contestant } from "../types.ts";

type Step = NonNullable<BenchResults["saturation"]>["byContestant"]["direct"] & {};
type StepResult = Step["steps"][number];

export interface SaturationOptions {
  connections: number[];
  stepDurationS: number;
  log(line: string): void;
}

export async function runSaturation(contestants: Contestant[], opts: SaturationOptions): Promise<NonNullable<BenchResults["saturation"]>> {
  const byContestant: NonNullable<BenchResults["saturation"]>["byContestant"] = {};
  for (const c of contestants) {
    await load(c, opts.connections[0]!, Math.min(2, opts.stepDurationS)); // warm-up, not recorded
    const steps: StepResult[] = [];
    let flat = 0;
    for (const connections of opts.connections) {
      const step = await load(c, connections, opts.stepDurationS);
      steps.push(step);
      opts.log(`saturation: ${c.id} at ${connections} connections: ${Math.round(step.rps)} req/s, p50 ${step.p50Ms} ms, p99 ${step.p99Ms} ms, ${step.errors + step.non2xx} errors`);
      const best = Math.max(...steps.slice(0, -1).map((s) => s.rps), 0);
      // Two steps in a row without 3 % more throughput: it has peaked.
      flat = step.rps < best * 1.03 ? flat + 1 : 0;
      if (flat >= 2) break;
    }
    const peak = steps.reduce((a, b) => (b.rps > a.rps ? b : a));
    byContestant[c.id] = { steps, peak };
  }
  return { stepDurationS: opts.stepDurationS, byContestant };
}

/** autocannon at `connections` for `durationS` against the target's /chat/completions (the limits scenario's load too). */
export async function load(c: Target, connections: number, durationS: number): Promise<StepResult> {
  const result = await autocannon({
    url: `${c.baseUrl}/chat/completions`,
    method: "POST",
    headers: { ...c.headers, "content-type": "application/json" },
    body: CHAT_BODY,
    connections,
    duration: durationS,
  });
  return {
    connections,
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
