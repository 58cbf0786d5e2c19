/**
 * Scenario 4, memory: each contestant started fresh, warmed up, then its resident memory (the whole
 * process tree) idle and while it relays many concurrent streams that the upstream holds open.
 */
import { Agent } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { openHeldStream, timedCompletion, timedStream } from "../load/requests.ts";
import { rssOfTreeMb } from "../processes.ts";
import type { BenchResults, ContestantSpec, StartContext } from "../types.ts";

export interface MemoryOptions {
  openStreams: number;
  log(line: string): void;
}

export async function runMemory(specs: ContestantSpec[], ctx: StartContext, opts: MemoryOptions): Promise<NonNullable<BenchResults["memory"]>> {
  const byContestant: NonNullable<BenchResults["memory"]>["byContestant"] = {};
  for (const spec of specs) {
    if (spec.id === "direct") continue; // no process of its own
    const c = await spec.start(ctx);
    const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
    const held: Array<{ close(): void }> = [];
    try {
      for (let i = 0; i < 200; i++) await timedCompletion(agent, c);
      for (let i = 0; i < 10; i++) await timedStream(agent, c, "bench");
      await sleep(1000);
      const idleRssMb = rssOfTreeMb(c.pid!);
      // Opened in batches: a thousand connects at once would measure the accept queue, not the relay.
      for (let i = 0; i < opts.openStreams; i += 50) {
        const batch = Array.from({ length: Math.min(50, opts.openStreams - i) }, () => openHeldStream(agent, c));
        for (const r of await Promise.allSettled(batch)) if (r.status === "fulfilled") held.push(r.value);
      }
      await sleep(1000);
      let loadedRssMb = 0;
      for (let i = 0; i < 3; i++, await sleep(300)) loadedRssMb = Math.max(loadedRssMb, rssOfTreeMb(c.pid!));
      byContestant[c.id] = {
        idleRssMb,
        loadedRssMb,
        opened: held.length,
        perStreamKb: held.length > 0 ? ((loadedRssMb - idleRssMb) * 1024) / held.length : 0,
      };
      opts.log(`memory: ${c.id} idle ${idleRssMb.toFixed(1)} MB, ${held.length}/${opts.openStreams} open streams ${loadedRssMb.toFixed(1)} MB`);
    } finally {
      for (const h of held) h.close();
      agent.destroy();
      await c.stop();
    }
  }
  return { openStreams: opts.openStreams, byContestant };
}
