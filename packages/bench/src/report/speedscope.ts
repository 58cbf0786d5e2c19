/**
 * A V8 .cpuprofile in speedscope's file format (https://www.speedscope.app/file-format-schema.json):
 * one sampled profile, each sample the stack from the root down to the function on top, weighted by
 * the microseconds until the next sample. Runs of the same stack are merged into one sample, which
 * keeps the file small and changes nothing speedscope shows.
 *
 * Open it at https://www.speedscope.app (drop the file in) or with `npx speedscope FILE`.
 */
import { type CallFrame, type CpuProfile, functionName, shortUrl } from "./cpu-profile.ts";

export const SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json";

export interface SpeedscopeFrame {
  name: string;
  /** Inside its package, as the self-time tables show it: "fastify/lib/reply.js", "node:events". */
  file?: string;
  /** 1-based, as an editor counts. */
  line?: number;
  col?: number;
}

export interface SampledProfile {
  type: "sampled";
  name: string;
  unit: "microseconds";
  startValue: number;
  endValue: number;
  /** Indices into shared.frames, outermost caller first. */
  samples: number[][];
  weights: number[];
}

export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  name: string;
  exporter: string;
  activeProfileIndex: number;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SampledProfile[];
}

export function toSpeedscope(profile: CpuProfile, name: string): SpeedscopeFile {
  const { samples = [], timeDeltas = [] } = profile;
  if (samples.length === 0) throw new Error("the profile has no samples (was it written by node --cpu-prof?)");

  const frames: SpeedscopeFrame[] = [];
  const frameIndex = new Map<string, number>();
  const frameOf = (f: CallFrame): number => {
    const key = `${f.functionName}\0${f.url}\0${f.lineNumber}\0${f.columnNumber ?? -1}`;
    let i = frameIndex.get(key);
    if (i === undefined) {
      frameIndex.set(key, (i = frames.length));
      const where = f.lineNumber >= 0 ? { line: f.lineNumber + 1, ...(f.columnNumber !== undefined && f.columnNumber >= 0 ? { col: f.columnNumber + 1 } : {}) } : {};
      frames.push({ name: functionName(f), ...(f.url ? { file: shortUrl(f.url) } : {}), ...where });
    }
    return i;
  };

  // Each node's stack, from the root down; V8's "(root)" node itself is not a frame anyone called.
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const called = new Set(profile.nodes.flatMap((n) => n.children ?? []));
  const stacks = new Map<number, number[]>();
  const todo: Array<[number, number[]]> = profile.nodes.filter((n) => !called.has(n.id)).map((n) => [n.id, n.callFrame.functionName === "(root)" ? [] : [frameOf(n.callFrame)]]);
  for (let item = todo.pop(); item; item = todo.pop()) {
    const [id, stack] = item;
    stacks.set(id, stack);
    for (const child of byId.get(id)?.children ?? []) {
      const node = byId.get(child);
      if (node) todo.push([child, [...stack, frameOf(node.callFrame)]]);
    }
  }

  const out: SampledProfile = { type: "sampled", name, unit: "microseconds", startValue: 0, endValue: 0, samples: [], weights: [] };
  let previous: number | undefined;
  for (const [i, id] of samples.entries()) {
    const weight = Math.max(0, timeDeltas[i + 1] ?? 0);
    if (id === previous) out.weights[out.weights.length - 1]! += weight;
    else {
      out.samples.push(stacks.get(id) ?? []);
      out.weights.push(weight);
    }
    previous = id;
  }
  const span = out.weights.reduce((a, b) => a + b, 0);
  out.endValue = profile.startTime !== undefined && profile.endTime !== undefined ? Math.max(span, profile.endTime - profile.startTime) : span;
  return { $schema: SPEEDSCOPE_SCHEMA, name, exporter: "@mcpgw/bench", activeProfileIndex: 0, shared: { frames }, profiles: [out] };
}
