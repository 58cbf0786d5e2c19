/**
 * A V8 .cpuprofile (what `node --cpu-prof` writes) as a classic flame graph: the root at the bottom,
 * each function a box as wide as the samples spent in it and in everything it called, stacked on its
 * caller. Identical call paths are merged and slivers dropped, so a 10 s profile stays a small file.
 * Also the self-time tables the profile script prints and the benchmarks page shows.
 */
import { escapeXml, INK, MUTED, r, svgDocument, text, textWidth, TOP, truncate, WIDTH } from "./svg.ts";

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime?: number;
  endTime?: number;
}

/** docs/benchmarks/profile.json: what `npm run bench:profile -- --docs` measured, for the benchmarks page. */
export interface ProfileSummary {
  date: string;
  seconds: number;
  connections: number;
  stream: boolean;
  rps: number;
  topSelf: Share[];
  byPackage: Share[];
}

export interface Share {
  name: string;
  percent: number;
}

/** ours: packages/openai-gateway; node: node's own JS and its native bindings; v8: (program), (idle), (garbage collector). */
export type Origin = "ours" | "node" | "module" | "v8";

/** Each origin's family; a frame picks within it by a hash (of its package for npm packages, so a package keeps one colour). */
export const PALETTE: Record<Origin, readonly string[]> = {
  ours: ["#0969da", "#218bff", "#54aeff", "#80ccff"],
  node: ["#8c959f", "#9ea7b3", "#afb8c1"],
  module: ["#fb8f44", "#eac54f", "#ff8182", "#e16f24", "#ffb77c"],
  v8: ["#d8dee4", "#e6eaef"],
};

/** Frames under this share of all samples are not drawn (nor anything above them). */
export const MIN_SHARE = 0.001;
/** Frames above the root deeper than this are cut off, with a note. */
export const MAX_DEPTH = 40;
const FRAME_H = 17;
const MARGIN = 20;
const LABEL_SIZE = 11;

export function originOf({ url, functionName }: CallFrame): Origin {
  if (url.includes("packages/openai-gateway/")) return "ours";
  if (url.includes("node_modules/")) return "module";
  if (url.startsWith("node:")) return "node";
  if (!url && functionName.startsWith("(")) return "v8";
  return url && !url.startsWith("wasm:") ? "module" : "node"; // a native binding such as writev, or WebAssembly (undici's llhttp)
}

/** "fastify", "undici", "mcpgw gateway", "node:internal/streams", "(native)", "(wasm)" or the V8 pseudo-frame itself. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("wasm:")) return "(wasm)";
  const m = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (originOf(frame) === "ours") return "mcpgw gateway";
  if (url.startsWith("node:internal/")) return url.split("/").slice(0, 2).join("/");
  if (url.startsWith("node:")) return url.split("/")[0]!;
  return shortUrl(url);
}

/** The path inside its package: "fastify/lib/route.js", "openai-gateway/dist/server.js", "node:internal/http". */
export function shortUrl(url: string): string {
  if (url.startsWith("node:") || url.startsWith("wasm:")) return url;
  const path = url.replace(/^file:\/\//, "");
  const m = /.*(?:node_modules|packages)\/(.+)$/.exec(path);
  return m ? m[1]! : path.split("/").slice(-2).join("/");
}

export function functionName(frame: CallFrame): string {
  return frame.functionName || "(anonymous)";
}

/** "handler (openai-gateway/dist/routes/proxy.js:12)", or the bare name when there is no file. */
export function frameLabel(frame: CallFrame): string {
  return frame.url ? `${functionName(frame)} (${shortUrl(frame.url)}:${frame.lineNumber + 1})` : functionName(frame);
}

/** The k functions with the most self time (samples in the function itself), as a share of all samples. */
export function topSelfTime(profile: CpuProfile, k: number): Share[] {
  return topShares(profile, k, frameLabel);
}

/** The same, summed by package (see packageOf). */
export function selfTimeByPackage(profile: CpuProfile, k: number): Share[] {
  return topShares(profile, k, packageOf);
}

function topShares(profile: CpuProfile, k: number, key: (f: CallFrame) => string): Share[] {
  const total = profile.nodes.reduce((n, x) => n + x.hitCount, 0) || 1;
  const hits = new Map<string, number>();
  for (const n of profile.nodes) hits.set(key(n.callFrame), (hits.get(key(n.callFrame)) ?? 0) + n.hitCount);
  return [...hits]
    .filter(([, h]) => h > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([name, h]) => ({ name, percent: Math.round((1000 * h) / total) / 10 }));
}

interface Frame {
  frame: CallFrame;
  self: number;
  total: number;
  children: Map<string, Frame>;
}

/** The call tree with identical paths merged (V8 keeps a node per call site; a reader wants a box per function). */
function mergedTree(profile: CpuProfile): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const called = new Set(profile.nodes.flatMap((n) => n.children ?? []));
  const rootNode = profile.nodes.find((n) => !called.has(n.id));
  if (!rootNode) throw new Error("the profile has no root node");
  const make = (frame: CallFrame): Frame => ({ frame, self: 0, total: 0, children: new Map() });
  const root = make(rootNode.callFrame);
  const todo: Array<[CpuProfileNode, Frame]> = [[rootNode, root]];
  for (let item = todo.pop(); item; item = todo.pop()) {
    const [node, into] = item;
    into.self += node.hitCount;
    for (const id of node.children ?? []) {
      const child = byId.get(id);
      if (!child) continue;
      const { functionName: fn, url, lineNumber } = child.callFrame;
      const key = `${fn}\0${url}\0${lineNumber}`;
      let merged = into.children.get(key);
      if (!merged) into.children.set(key, (merged = make(child.callFrame)));
      todo.push([child, merged]);
    }
  }
  const sum = (f: Frame): number => (f.total = f.self + [...f.children.values()].reduce((n, c) => n + sum(c), 0));
  sum(root);
  return root;
}

export function flameGraphSvg(profile: CpuProfile, opts: { title: string; subtitle?: string; width?: number }): string {
  const width = opts.width ?? WIDTH;
  const plotW = width - 2 * MARGIN;
  const root = mergedTree(profile);
  const packages = packageColours(profile);
  const all = root.total || 1;
  const pct = (n: number) => `${((100 * n) / all).toFixed(1)} %`;

  // Lay out first (left-heaviest first, like speedscope's left-heavy view), then draw bottom-up.
  const boxes: Array<{ f: Frame; depth: number; x: number; w: number }> = [];
  let cut = 0;
  const place = (f: Frame, depth: number, x: number) => {
    if (depth > MAX_DEPTH) return void (cut += f.total);
    boxes.push({ f, depth, x, w: (f.total / all) * plotW });
    let at = x;
    for (const c of [...f.children.values()].sort((a, b) => b.total - a.total)) {
      if (c.total < MIN_SHARE * all) continue;
      place(c, depth + 1, at);
      at += (c.total / all) * plotW;
    }
  };
  place(root, 0, MARGIN);

  const rows = Math.max(...boxes.map((b) => b.depth)) + 1;
  const base = TOP + rows * FRAME_H; // the bottom edge of the root row
  const body = boxes.map(({ f, depth, x, w }) => {
    const isRoot = f === root;
    const name = isRoot ? "all" : functionName(f.frame);
    const tip = `${isRoot ? "all samples" : frameLabel(f.frame)} — ${f.total.toLocaleString("en-US")} samples, ${pct(f.total)}`;
    const fill = isRoot ? PALETTE.v8[0]! : colour(f.frame, packages);
    const y = base - (depth + 1) * FRAME_H;
    const chars = Math.floor((w - 6) / textWidth("x", LABEL_SIZE));
    const label = chars >= 3 ? text(x + 3, y + FRAME_H - 5, truncate(name, chars), { size: LABEL_SIZE, fill: onColour(fill) }) : "";
    const rect = `<rect x="${r(x)}" y="${r(y)}" width="${r(Math.max(w - 0.5, 0.3))}" height="${FRAME_H - 1}" fill="${fill}"/>`;
    return `<g><title>${escapeXml(tip)}</title>${rect}${label}</g>`;
  });

  const seconds = profile.startTime !== undefined && profile.endTime !== undefined ? (profile.endTime - profile.startTime) / 1e6 : undefined;
  const over = seconds ? ` over ${seconds.toFixed(1)} s` : "";
  const notes = wrap(
    `Each box is a function, as wide as its share of all ${all.toLocaleString("en-US")} samples${over}, including what it called (stacked above it). ` +
      `Boxes under ${(MIN_SHARE * 100).toFixed(1)} % are left out${cut ? `, and so are calls deeper than ${MAX_DEPTH} frames (${pct(cut)} of samples)` : ""}. ` +
      "Open the SVG on its own and hover a box for its figures.",
    plotW,
  );
  const { lines: legendLines, height: legendH } = legend(base + 22, plotW);
  const notesY = base + 22 + legendH + 8;
  const noteLines = notes.map((n, i) => text(MARGIN, notesY + i * 16, n, { size: 11, fill: MUTED }));
  return withWidth(svgDocument(notesY + notes.length * 16, opts.title, opts.subtitle, [...body, ...legendLines, ...noteLines]), width);
}

/** Swatches and what they mean, wrapped onto as many rows as the width needs. */
function legend(y: number, maxW: number): { lines: string[]; height: number } {
  const items: Array<[readonly string[], string]> = [
    [PALETTE.ours.slice(0, 3), "ours (openai-gateway)"],
    [PALETTE.module.slice(0, 3), "npm packages, a colour each"],
    [PALETTE.node.slice(0, 1), "node and native code"],
    [PALETTE.v8.slice(0, 1), "V8: program, GC, idle"],
  ];
  const lines: string[] = [];
  let [x, row] = [MARGIN, 0];
  for (const [fills, label] of items) {
    const w = fills.length * 12 + 2 + textWidth(label, 11);
    if (x > MARGIN && x + w > MARGIN + maxW) [x, row] = [MARGIN, row + 1];
    const at = y + row * 18;
    fills.forEach((fill, i) => lines.push(`<rect x="${r(x + i * 12)}" y="${r(at - 10)}" width="10" height="10" fill="${fill}"/>`));
    lines.push(text(x + fills.length * 12 + 2, at, label, { size: 11 }));
    x += w + 18;
  }
  return { lines, height: (row + 1) * 18 };
}

function wrap(s: string, maxW: number, size = 11): string[] {
  const lines: string[] = [];
  for (const word of s.split(" ")) {
    const last = lines.at(-1);
    if (last !== undefined && textWidth(`${last} ${word}`, size) <= maxW) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

function colour(frame: CallFrame, packages: Map<string, string>): string {
  const origin = originOf(frame);
  const family = PALETTE[origin];
  if (origin === "module") return packages.get(packageOf(frame)) ?? family[hash(packageOf(frame)) % family.length]!;
  return family[hash(functionName(frame)) % family.length]!;
}

/** A warm hue per npm package, picked by a hash of its name; the heaviest packages claim theirs first, so they never share one. */
function packageColours(profile: CpuProfile): Map<string, string> {
  const family = PALETTE.module;
  const self = new Map<string, number>();
  for (const n of profile.nodes) {
    if (originOf(n.callFrame) === "module") self.set(packageOf(n.callFrame), (self.get(packageOf(n.callFrame)) ?? 0) + n.hitCount);
  }
  const free = new Set(family.keys());
  const colours = new Map<string, string>();
  for (const [name] of [...self].sort((a, b) => b[1] - a[1])) {
    let i = hash(name) % family.length;
    if (free.size) {
      while (!free.has(i)) i = (i + 1) % family.length;
      free.delete(i);
    }
    colours.set(name, family[i]!);
  }
  return colours;
}

/** Dark text on light boxes, white on dark ones (relative luminance). */
function onColour(hex: string): string {
  const [red, green, blue] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255);
  return 0.2126 * red! + 0.7152 * green! + 0.0722 * blue! < 0.4 ? "#ffffff" : INK;
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** svgDocument draws at the page width; a flame graph may ask for another. */
function withWidth(svg: string, width: number): string {
  return width === WIDTH ? svg : svg.replace(/^<svg ([^>]*?)width="\d+"([^>]*?)viewBox="0 0 \d+ /, `<svg $1width="${width}"$2viewBox="0 0 ${width} `);
}
