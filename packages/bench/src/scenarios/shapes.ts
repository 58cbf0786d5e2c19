/**
 * Scenario 7, traffic shapes (issue 16): what each contestant adds over direct, one request at a
 * time as in scenario 1, for request bodies of ~100 B, ~4 KB and ~50 KB, answers of ~1 KB and ~16 KB
 * with a content-length or chunked, and three upstreams: the run's static upstream (its own
 * process), one in the harness's process, and one over HTTPS with a certificate from a private CA
 * made for the run. Every contestant runs in front of each upstream (a second and third instance of
 * each, started here on the contestant's core and stopped here), and direct calls each upstream
 * itself, so every shape's added latency is over the same upstream. Each round goes through every
 * shape and, within it, every contestant (both orders rotating), so that drift hits all alike.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { join } from "node:path";
import { completionText, percentile, timedCompletion } from "../load/requests.ts";
import type { BenchResults, Contestant, ContestantId, ContestantSpec, ShapeUpstream, StartContext } from "../types.ts";
import { makePrivateCa, opensslMissing } from "../upstream/private-ca.ts";
import { answerContentChars } from "../upstream/shaped-answers.ts";
import { startInProcessUpstream, startTlsUpstream, type ShapedUpstream } from "../upstream/shaped-upstream.ts";
import { bodyOf, SHAPES, shapeFigures, UPSTREAM_LABEL, type Shape } from "./shapes-list.ts";

export interface ShapesOptions {
  rounds: number;
  requestsPerRound: number;
  /** Untimed requests per shape and contestant before the first round. */
  warmup: number;
  /** No round starts after this many seconds of measuring: the bound on a slow machine (the rounds done are reported). */
  maxSeconds: number;
  log(line: string): void;
}

/** A request that takes longer has hung: the scenario fails rather than wait. */
const REQUEST_TIMEOUT_MS = 10_000;

interface Cell {
  shape: Shape;
  contestant: Contestant;
  agent: Agent;
  body: string;
  p50: number[];
  p99: number[];
}

export async function runShapes(
  running: Contestant[],
  specs: ContestantSpec[],
  ctx: StartContext & { harnessCpu: number },
  opts: ShapesOptions,
): Promise<NonNullable<BenchResults["shapes"]>> {
  const notes: string[] = [];
  const toStop: Array<{ stop(): Promise<void> }> = [];
  const agents: Agent[] = [];
  const sentTo = new Map<ShapeUpstream, number>();

  async function startEach(upstream: ShapeUpstream, siteCtx: StartContext): Promise<Contestant[]> {
    mkdirSync(siteCtx.workDir, { recursive: true });
    const list: Contestant[] = [];
    for (const spec of specs) {
      try {
        const c = await spec.start(siteCtx);
        toStop.push(c);
        list.push(c);
        if (c.pid !== undefined) opts.log(`shapes: ${c.id} in front of the upstream ${UPSTREAM_LABEL[upstream]}: ${c.baseUrl} (pid ${c.pid})`);
      } catch (err) {
        if (spec.id === "direct") throw err;
        notes.push(`${spec.id} in front of the upstream ${UPSTREAM_LABEL[upstream]}: did not start (${firstLine(err)})`);
        opts.log(`shapes: ${notes.at(-1)}`);
      }
    }
    return list;
  }

  try {
    const sites = new Map<ShapeUpstream, { contestants: Contestant[]; ca?: string }>([["process", { contestants: running }]]);
    const inProcess = await startInProcessUpstream(ctx.upstreamKey);
    toStop.push(inProcess);
    opts.log(`shapes: in-process upstream on ${inProcess.origin}`);
    sites.set("in-process", { contestants: await startEach("in-process", { ...ctx, upstreamOrigin: inProcess.origin, workDir: join(ctx.workDir, "shapes-in-process") }) });
    let tls: (ShapedUpstream & { pid: number }) | undefined;
    const noOpenssl = opensslMissing();
    if (noOpenssl) notes.push(`the HTTPS shapes: not measured (${noOpenssl})`);
    else {
      const ca = makePrivateCa(join(ctx.workDir, "shapes-ca"));
      tls = await startTlsUpstream({ cpu: ctx.harnessCpu, key: ctx.upstreamKey, ...ca, logFile: join(ctx.workDir, "shapes-tls-upstream.log") });
      toStop.push(tls);
      opts.log(`shapes: HTTPS upstream on ${tls.origin} (pid ${tls.pid}, core ${ctx.harnessCpu}), certificate from a private CA made for this run`);
      const siteCtx = { ...ctx, upstreamOrigin: tls.origin, upstreamCa: ca.caFile, workDir: join(ctx.workDir, "shapes-https") };
      sites.set("https", { contestants: await startEach("https", siteCtx), ca: readFileSync(ca.caFile, "utf8") });
    }

    // One keep-alive connection per contestant and upstream, as one client has; direct to HTTPS trusts the CA itself.
    const agentFor = new Map<string, Agent>();
    const agentOf = (upstream: ShapeUpstream, c: Contestant) => {
      const key = `${upstream}/${c.id}`;
      let agent = agentFor.get(key);
      if (!agent) {
        const ca = sites.get(upstream)?.ca;
        agent = c.baseUrl.startsWith("https:") ? new HttpsAgent({ keepAlive: true, maxSockets: 1, ...(ca ? { ca } : {}) }) : new Agent({ keepAlive: true, maxSockets: 1 });
        agentFor.set(key, agent);
        agents.push(agent);
      }
      return agent;
    };
    const cells: Cell[] = [];
    for (const shape of SHAPES) {
      const site = sites.get(shape.upstream);
      if (!site) continue;
      const body = bodyOf(shape);
      for (const c of site.contestants) cells.push({ shape, contestant: c, agent: agentOf(shape.upstream, c), body, p50: [], p99: [] });
    }
    const count = (cell: Cell, n: number) => sentTo.set(cell.shape.upstream, (sentTo.get(cell.shape.upstream) ?? 0) + n);

    // Every contestant must relay each answer whole before it is timed; one that does not is left out of that shape, and the report says so.
    const measured: Cell[] = [];
    for (const cell of cells) {
      count(cell, 1);
      const why = await checkAnswer(cell).catch((err: unknown) => firstLine(err));
      if (why === undefined) measured.push(cell);
      else if (cell.contestant.id === "direct") throw new Error(`shapes: direct on ${cell.shape.id}: ${why}`);
      else {
        notes.push(`${cell.contestant.id} on ${cell.shape.id}: left out (${why})`);
        opts.log(`shapes: ${notes.at(-1)}`);
      }
    }
    for (const cell of measured) {
      for (let i = 0; i < opts.warmup; i++) await timed(cell);
      count(cell, opts.warmup);
    }

    const shapes = SHAPES.filter((s) => measured.some((c) => c.shape === s));
    const t0 = performance.now();
    let rounds = 0;
    for (let r = 0; r < opts.rounds; r++) {
      if ((performance.now() - t0) / 1000 > opts.maxSeconds) {
        notes.push(`${rounds} rounds of ${opts.rounds}: the scenario's ${opts.maxSeconds} s were up`);
        opts.log(`shapes: ${notes.at(-1)}`);
        break;
      }
      for (const shape of rotate(shapes, r)) {
        for (const cell of rotate(measured.filter((c) => c.shape === shape), r)) {
          const samples: number[] = [];
          for (let i = 0; i < opts.requestsPerRound; i++) samples.push(await timed(cell));
          count(cell, opts.requestsPerRound);
          samples.sort((a, b) => a - b);
          cell.p50.push(percentile(samples, 50));
          cell.p99.push(percentile(samples, 99));
        }
      }
      rounds++;
      const most = Math.max(...shapes.map((s) => measured.filter((c) => c.shape === s).length));
      opts.log(`shapes: round ${r + 1}/${opts.rounds} (${shapes.length} shapes x up to ${most} contestants, ${opts.requestsPerRound} requests each)`);
    }

    const byShape = shapes.map((s) => shapeFigures(s, new Map(measured.filter((c) => c.shape === s).map((c) => [c.contestant.id as ContestantId, { p50: c.p50, p99: c.p99 }]))));
    const counts = tls ? await tls.counts() : undefined;
    return {
      rounds,
      requestsPerRound: opts.requestsPerRound,
      warmup: opts.warmup,
      byShape,
      ...(counts ? { tls: { sent: sentTo.get("https") ?? 0, upstreamRequests: counts.requests, overTls: counts.overTls } } : {}),
      notes,
    };
  } finally {
    for (const a of agents) a.destroy();
    for (const s of toStop.reverse()) await s.stop().catch(() => {});
  }
}

function timed(cell: Cell): Promise<number> {
  const what = `${cell.contestant.id} on ${cell.shape.id}`;
  return within(timedCompletion(cell.agent, cell.contestant, cell.body)).catch((err: unknown) => {
    throw new Error(`shapes: ${what}: ${firstLine(err)}`);
  });
}

/** Undefined when the answer came whole (the shape's content, every character), else what was wrong. */
async function checkAnswer(cell: Cell): Promise<string | undefined> {
  const text = await within(completionText(cell.agent, cell.contestant, cell.body));
  let content: unknown;
  try {
    content = (JSON.parse(text) as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]?.message?.content;
  } catch {
    return `not JSON: ${text.slice(0, 120)}`;
  }
  const want = answerContentChars(cell.shape.answer);
  return typeof content === "string" && content.length === want ? undefined : `answer content of ${typeof content === "string" ? content.length : typeof content} characters, not ${want}`;
}

function within<T>(p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)), REQUEST_TIMEOUT_MS);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The first after a switch can pay for a cold cache: who goes first changes every round. */
function rotate<T>(list: T[], r: number): T[] {
  return list.map((_, i) => list[(i + r) % list.length]!);
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0]!;
}
