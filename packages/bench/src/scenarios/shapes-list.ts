/**
 * The traffic shapes of scenario 7, and how their rounds become figures: pure, so the report and
 * the targets read figures whose every step is here. Each shape changes one thing from the small
 * one (a ~100 B question, a ~1 KB answer with a content-length, the upstream in its own process), but
 * for "agent turn" (a ~50 KB conversation with tools, a ~16 KB chunked answer), which changes all at once.
 */
import { median } from "../load/requests.ts";
import { REQUEST_BYTES, requestBody, type RequestSize } from "../load/shaped-requests.ts";
import type { ContestantId, ShapeResult, ShapeUpstream } from "../types.ts";
import { ANSWER_BYTES, answerModel, type AnswerSize, type Framing } from "../upstream/shaped-answers.ts";

export interface Shape {
  id: string;
  request: RequestSize;
  answer: AnswerSize;
  framing: Framing;
  upstream: ShapeUpstream;
}

const shape = (id: string, request: RequestSize, answer: AnswerSize, framing: Framing, upstream: ShapeUpstream): Shape => ({ id, request, answer, framing, upstream });

export const SHAPES: Shape[] = [
  shape("small", "100B", "1k", "length", "process"),
  shape("answer-1k-chunked", "100B", "1k", "chunked", "process"),
  shape("answer-16k", "100B", "16k", "length", "process"),
  shape("answer-16k-chunked", "100B", "16k", "chunked", "process"),
  shape("request-4k", "4KB", "1k", "length", "process"),
  shape("request-50k", "50KB", "1k", "length", "process"),
  shape("agent-turn", "50KB", "16k", "chunked", "process"),
  shape("in-process-small", "100B", "1k", "length", "in-process"),
  shape("in-process-agent-turn", "50KB", "16k", "chunked", "in-process"),
  shape("https-small", "100B", "1k", "length", "https"),
  shape("https-agent-turn", "50KB", "16k", "chunked", "https"),
];

export const UPSTREAM_LABEL: Record<ShapeUpstream, string> = {
  process: "own process",
  "in-process": "in the harness's process",
  https: "own process, HTTPS",
};

export const bodyOf = (s: Shape) => requestBody(s.request, answerModel(s.answer, s.framing));

export function labelOf(s: Shape): string {
  const kb = (n: number) => (n < 1024 ? `${n} B` : `${Math.round(n / 1024)} KB`);
  return `${kb(REQUEST_BYTES[s.request])} request, ${kb(ANSWER_BYTES[s.answer])} answer ${s.framing === "chunked" ? "chunked" : "with content-length"}, upstream ${UPSTREAM_LABEL[s.upstream]}`;
}

type Rounds = Map<ContestantId, { p50: number[]; p99: number[] }>;

/**
 * A shape's figures: each contestant's median round p50 and p99, what it adds over direct's on the
 * same upstream, and that added latency as a ratio to the bare node proxy's and to Portkey's.
 */
export function shapeFigures(s: Shape, rounds: Rounds): ShapeResult {
  const byContestant: ShapeResult["byContestant"] = {};
  const base = rounds.get("direct");
  const baseP50 = base && base.p50.length ? median(base.p50) : Number.NaN;
  const baseP99 = base && base.p99.length ? median(base.p99) : Number.NaN;
  for (const [id, r] of rounds) {
    if (r.p50.length === 0) continue;
    const p50Ms = median(r.p50);
    const p99Ms = median(r.p99);
    byContestant[id] = { p50Ms, p99Ms, addedP50Ms: p50Ms - baseP50, addedP99Ms: p99Ms - baseP99 };
  }
  const ratio = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && Number.isFinite(a) && b > 0 ? { v: a / b } : undefined);
  const np = byContestant["node-proxy"];
  const pk = byContestant.portkey;
  for (const [id, e] of Object.entries(byContestant) as [ContestantId, NonNullable<ShapeResult["byContestant"][ContestantId]>][]) {
    if (id === "direct") continue;
    const put = (key: "p50VsNodeProxy" | "p99VsNodeProxy" | "p50VsPortkey" | "p99VsPortkey", r: { v: number } | undefined) => {
      if (r) e[key] = r.v;
    };
    if (id !== "node-proxy") {
      put("p50VsNodeProxy", ratio(e.addedP50Ms, np?.addedP50Ms));
      put("p99VsNodeProxy", ratio(e.addedP99Ms, np?.addedP99Ms));
    }
    if (id !== "portkey") {
      put("p50VsPortkey", ratio(e.addedP50Ms, pk?.addedP50Ms));
      put("p99VsPortkey", ratio(e.addedP99Ms, pk?.addedP99Ms));
    }
  }
  const body = bodyOf(s);
  return {
    id: s.id,
    label: labelOf(s),
    requestBytes: Buffer.byteLength(body),
    answerBytes: ANSWER_BYTES[s.answer],
    chunked: s.framing === "chunked",
    upstream: s.upstream,
    byContestant,
  };
}
