/**
 * A V8 .cpuprofile (what `node --cpu-prof` writes), read for the self-time tables the profile script
 * prints and the benchmarks page shows. To look inside the whole profile, open the file itself (or
 * the speedscope file made from it) in speedscope, Chrome DevTools or VS Code.
 */

export interface CallFrame {
  functionName: string;
  url: string;
  /** 0-based, -1 where there is no source (native code, V8's own frames). */
  lineNumber: number;
  columnNumber?: number;
}

export interface CpuProfileNode {
  id: number;
  callFrame: CallFrame;
  /** Samples taken while this node was on top of the stack. */
  hitCount: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** Microseconds. */
  startTime?: number;
  endTime?: number;
  /** The node on top of the stack at each sample, in time order. */
  samples?: number[];
  /** Microseconds from the sample before (from startTime for the first). */
  timeDeltas?: number[];
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

/** Ours: the gateway's own code, in packages/openai-gateway. */
export function isOurs(frame: CallFrame): boolean {
  return frame.url.includes("packages/openai-gateway/");
}

/** "fastify", "undici", "mcpgw gateway", "node:internal/streams", "(native)", "(wasm)" or the V8 pseudo-frame itself. */
export function packageOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("wasm:")) return "(wasm)";
  const m = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (isOurs(frame)) return "mcpgw gateway";
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
