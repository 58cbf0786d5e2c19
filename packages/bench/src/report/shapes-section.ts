/**
 * The report's traffic-shapes section (scenario 7): added latency per shape, then as ratios to the
 * bare node proxy's and to Portkey's. It is handed the page's own table and escaping helpers, so
 * that every table of the page reads alike.
 */
import type { BenchResults, ContestantId, ShapeResult } from "../types.ts";
import * as fmt from "./format.ts";

type Contestant = BenchResults["contestants"][number];

export interface PageHelpers {
  table(headers: string[], rows: string[][]): string;
  escape(s: string): string;
  name(c: Contestant): string;
}

const UPSTREAM: Record<ShapeResult["upstream"], string> = { process: "own process", "in-process": "harness's process", https: "own process, HTTPS" };

export function shapesSection(r: BenchResults, page: PageHelpers): string[] | undefined {
  const s = r.shapes;
  if (!s) return undefined;
  const { table, escape } = page;
  const measured = (id: ContestantId) => s.byShape.some((x) => x.byContestant[id] !== undefined);
  const others = r.contestants.filter((c) => c.id !== "direct" && measured(c.id));
  const pair = (a: string, b: string) => (a === fmt.DASH && b === fmt.DASH ? fmt.DASH : `${a} / ${b}`);
  const size = (n: number) => (n < 1024 ? `${n} B` : `${Number.isInteger(n / 1024) ? n / 1024 : (n / 1024).toFixed(1)} KB`);
  const shapeCell = (x: ShapeResult) => `${escape(x.id)}`;
  const ratioTable = (vs: ContestantId, p50: "p50VsNodeProxy" | "p50VsPortkey", p99: "p99VsNodeProxy" | "p99VsPortkey") => {
    const cols = others.filter((c) => c.id !== vs);
    return table(
      ["Shape", ...cols.map(page.name)],
      s.byShape.map((x) => [shapeCell(x), ...cols.map((c) => pair(fmt.times(x.byContestant[c.id]?.[p50]), fmt.times(x.byContestant[c.id]?.[p99])))]),
    );
  };
  const lines = [
    `One request at a time as in scenario 1, for each traffic shape: ${fmt.count(s.rounds)} rounds of ${fmt.count(s.requestsPerRound)} requests per shape and contestant ` +
      `(after ${fmt.count(s.warmup)} untimed), every shape and, within it, every contestant taking turns in each round. Direct calls the upstream of the shape itself, ` +
      "so *added* is always over the same upstream; p50 and p99 are the medians of the round figures.",
    "",
    "- Requests: ~100 B is one short question; ~4 KB a system prompt, three tools and a few turns of tool calls and their results; " +
      "~50 KB twenty tools and many such turns, the JSON an agent sends late in its work.",
    "- Answers: a chat.completion of 1 KB or 16 KB, with a content-length in one write, or without one (chunked) in 4 or 8 writes.",
    "- Upstream: the run's static upstream in its own process; a copy of it in the harness's own process (one process wake-up fewer per request); " +
      "or its own process over HTTPS, with a certificate from a private CA made for the run, which every contestant is set to trust and verify.",
    "",
    "Added latency over direct, in ms, p50 / p99:",
    "",
    table(
      ["Shape", "Request", "Answer", "Upstream", "direct p50 / p99 (ms)", ...others.map(page.name)],
      s.byShape.map((x) => [
        shapeCell(x),
        size(x.requestBytes),
        `${size(x.answerBytes)}${x.chunked ? ", chunked" : ""}`,
        UPSTREAM[x.upstream],
        pair(fmt.ms(x.byContestant.direct?.p50Ms), fmt.ms(x.byContestant.direct?.p99Ms)),
        ...others.map((c) => pair(fmt.ms(x.byContestant[c.id]?.addedP50Ms), fmt.ms(x.byContestant[c.id]?.addedP99Ms))),
      ]),
    ),
  ];
  if (measured("node-proxy")) lines.push("", "Added latency as a ratio to the bare node:http proxy's on the same shape, p50 / p99 (below 1× is less added than the floor for Node):", "", ratioTable("node-proxy", "p50VsNodeProxy", "p99VsNodeProxy"));
  if (measured("portkey")) lines.push("", "Added latency as a ratio to Portkey's on the same shape, p50 / p99:", "", ratioTable("portkey", "p50VsPortkey", "p99VsPortkey"));
  if (s.tls) {
    lines.push(
      "",
      `Over TLS: the HTTPS upstream answered ${fmt.count(s.tls.upstreamRequests)} chat requests, ${fmt.count(s.tls.overTls)} of them on TLS connections; ` +
        `the harness sent ${fmt.count(s.tls.sent)} to the HTTPS shapes (directly and through the contestants).`,
    );
  }
  if (s.notes.length) lines.push("", ...s.notes.map((n) => `- ${escape(n)}`));
  return lines;
}
