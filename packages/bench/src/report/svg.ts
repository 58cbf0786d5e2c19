/** The pieces every chart shares: the page, text, colours and a readable axis. */

export const WIDTH = 800;
const FONT = `-apple-system, BlinkMacSystemFont, 'Segoe UI', Helvetica, Arial, sans-serif`;
export const INK = "#1f2328";
export const MUTED = "#59636e";
export const GRID = "#d8dee4";
/** Our gateway: a blue that stands out; everyone else in greys. Index = series. */
export const OURS = ["#0969da", "#80b6f5"];
export const OTHERS = ["#6e7781", "#c3cad3"];
/** Lines need to be told apart, so the others get a dash pattern as well as a grey. */
export const OTHER_LINES = [
  { colour: "#3d444d", dash: "" },
  { colour: "#8c959f", dash: "6 4" },
  { colour: "#57606a", dash: "2 3" },
  { colour: "#afb8c1", dash: "10 3 2 3" },
];

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot", "'": "apos" }[c]};`);
}

export interface TextOptions {
  size?: number;
  anchor?: "start" | "middle" | "end";
  weight?: "bold" | "normal";
  fill?: string;
  italic?: boolean;
}

export function text(x: number, y: number, content: string, o: TextOptions = {}): string {
  const attrs = [`x="${r(x)}"`, `y="${r(y)}"`, `font-size="${o.size ?? 13}"`, `fill="${o.fill ?? INK}"`];
  if (o.anchor && o.anchor !== "start") attrs.push(`text-anchor="${o.anchor}"`);
  if (o.weight === "bold") attrs.push(`font-weight="bold"`);
  if (o.italic) attrs.push(`font-style="italic"`);
  return `<text ${attrs.join(" ")}>${escapeXml(content)}</text>`;
}

/** A standalone SVG with a light background, a title and an optional subtitle; `body` starts at y=top. */
export function svgDocument(height: number, title: string, subtitle: string | undefined, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${r(height)}" viewBox="0 0 ${WIDTH} ${r(height)}" font-family="${escapeXml(FONT)}" role="img">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(20, 30, title, { size: 18, weight: "bold" }),
    subtitle ? text(20, 52, subtitle, { size: 13, fill: MUTED }) : "",
    ...body,
    `</svg>`,
    "",
  ]
    .filter((line) => line !== "")
    .join("\n");
}

/** Where the body of a chart starts, below the title and subtitle. */
export const TOP = 72;

/** Round for the file: two decimals of a pixel are plenty. */
export function r(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Evenly spaced round ticks (1, 2 or 5 times a power of ten) that cover [lo, hi]; lo <= 0 <= hi. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [0, 1];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t < hi + step - step * 1e-9; t += step) ticks.push(Math.round(t / step) * step);
  return ticks;
}

/** Tick labels without float noise: as many decimals as the step needs. */
export function tickLabel(t: number, ticks: number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  const decimals = Math.max(0, Math.min(3, -Math.floor(Math.log10(step))));
  return t.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Approximate width of text, for layout: generous, as fonts without a system UI font (DejaVu) run wide. */
export function textWidth(s: string, size = 13, bold = false): number {
  return s.length * size * (bold ? 0.66 : 0.6);
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}
