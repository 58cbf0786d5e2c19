/** A line chart with one line per contestant over a categorical x axis (the connection counts tried). */
import { GRID, INK, MUTED, niceTicks, OTHER_LINES, OURS, r, svgDocument, text, tickLabel, TOP, truncate, WIDTH } from "./svg.ts";

export interface LineSeries {
  label: string;
  highlight: boolean;
  points: Array<{ x: number; y: number }>;
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  xAxis: string;
  yAxis: string;
  series: LineSeries[];
}

const LEFT = 70;
const RIGHT = WIDTH - 240; // the legend sits to the right of the plot
const PLOT_H = 280;

export function lineChart(spec: LineChartSpec): string {
  const series = spec.series.map((s) => ({ ...s, points: s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)) }));
  // Evenly spaced categories: the steps double, so a linear axis would bunch the first ones together.
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ticks = niceTicks(0, Math.max(0, ...series.flatMap((s) => s.points.map((p) => p.y))));
  const hi = ticks[ticks.length - 1]!;
  const top = TOP + 20;
  const bottom = top + PLOT_H;
  const sx = (x: number) => {
    const i = xs.indexOf(x);
    return xs.length < 2 ? (LEFT + RIGHT) / 2 : LEFT + 20 + (i / (xs.length - 1)) * (RIGHT - LEFT - 40);
  };
  const sy = (y: number) => bottom - (y / hi) * PLOT_H;
  const body: string[] = [text(20, TOP + 4, spec.yAxis, { size: 12, fill: MUTED })];
  for (const t of ticks) {
    body.push(`<line x1="${LEFT}" y1="${r(sy(t))}" x2="${RIGHT}" y2="${r(sy(t))}" stroke="${GRID}"/>`);
    body.push(text(LEFT - 8, sy(t) + 4, tickLabel(t, ticks), { size: 11, anchor: "end", fill: MUTED }));
  }
  body.push(`<line x1="${LEFT}" y1="${bottom}" x2="${RIGHT}" y2="${bottom}" stroke="${MUTED}"/>`);
  for (const x of xs) body.push(text(sx(x), bottom + 16, x.toLocaleString("en-US"), { size: 11, anchor: "middle", fill: MUTED }));
  body.push(text((LEFT + RIGHT) / 2, bottom + 36, spec.xAxis, { size: 12, anchor: "middle", fill: MUTED }));

  let others = 0;
  const styled = series.map((s) => ({ ...s, style: s.highlight ? { colour: OURS[0]!, dash: "" } : OTHER_LINES[others++ % OTHER_LINES.length]! }));
  // Ours last, so it is drawn on top.
  for (const s of [...styled].sort((a, b) => Number(a.highlight) - Number(b.highlight))) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const width = s.highlight ? 3 : 2;
    const dash = s.style.dash ? ` stroke-dasharray="${s.style.dash}"` : "";
    if (pts.length > 1) {
      const d = pts.map((p, i) => `${i === 0 ? "M" : "L"}${r(sx(p.x))} ${r(sy(p.y))}`).join(" ");
      body.push(`<path d="${d}" fill="none" stroke="${s.style.colour}" stroke-width="${width}"${dash} stroke-linejoin="round"/>`);
    }
    for (const p of pts) body.push(`<circle cx="${r(sx(p.x))}" cy="${r(sy(p.y))}" r="${s.highlight ? 4 : 3}" fill="${s.style.colour}"/>`);
  }

  let ly = top + 4;
  for (const s of styled) {
    const dash = s.style.dash ? ` stroke-dasharray="${s.style.dash}"` : "";
    body.push(`<line x1="${RIGHT + 20}" y1="${ly}" x2="${RIGHT + 48}" y2="${ly}" stroke="${s.style.colour}" stroke-width="${s.highlight ? 3 : 2}"${dash}/>`);
    body.push(text(RIGHT + 56, ly + 4, truncate(s.label, 26), { size: 12, weight: s.highlight ? "bold" : "normal", fill: s.highlight ? OURS[0] : INK }));
    ly += 22;
  }
  return svgDocument(Math.max(bottom + 52, ly + 10), spec.title, spec.subtitle, body);
}
