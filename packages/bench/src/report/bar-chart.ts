/**
 * Horizontal bar charts, grouped by row (one bar per series), in one or more stacked panels that
 * each have their own scale: first-chunk times and last-chunk times differ by a hundredfold.
 */
import { GRID, INK, MUTED, niceTicks, OTHERS, OURS, r, svgDocument, text, textWidth, tickLabel, TOP, truncate, WIDTH } from "./svg.ts";

export interface BarRow {
  label: string;
  /** Ours: drawn in the highlight colour. */
  highlight: boolean;
  /** One per series; undefined where not measured. */
  values: Array<number | undefined>;
  /** Shown instead of bars when no value is there (why it was not measured). */
  note?: string;
}

export interface BarPanel {
  /** A heading over the panel; omitted for a single-panel chart. */
  title?: string;
  /** The axis caption, with its unit: "added latency (ms)". */
  axis: string;
  rows: BarRow[];
  format(value: number): string;
}

export interface BarChartSpec {
  title: string;
  subtitle?: string;
  /** Names of the bars in a group, e.g. ["p50", "p99"]; a legend is drawn when there are two or more. */
  series: string[];
  panels: BarPanel[];
}

const BAR = 16;
const GAP = 3;
const ROW_GAP = 12;
const RIGHT = 90; // room for the value label of the longest bar

export function barChart(spec: BarChartSpec): string {
  const rows = spec.panels.flatMap((p) => p.rows);
  const left = Math.min(260, Math.max(120, ...rows.map((row) => textWidth(row.label, 13, row.highlight) + 34)));
  const right = WIDTH - RIGHT;
  const body: string[] = [];
  let y = TOP;
  if (spec.series.length > 1) {
    let x = left;
    for (const [i, name] of spec.series.entries()) {
      body.push(`<rect x="${r(x)}" y="${y}" width="12" height="12" fill="${OURS[i % OURS.length]}"/>`);
      body.push(`<rect x="${r(x + 12)}" y="${y}" width="12" height="12" fill="${OTHERS[i % OTHERS.length]}"/>`);
      body.push(text(x + 30, y + 11, name, { size: 12 }));
      x += 30 + textWidth(name, 12) + 24;
    }
    y += 28;
  }
  for (const panel of spec.panels) {
    if (panel.title) {
      body.push(text(20, y + 14, panel.title, { size: 14, weight: "bold" }));
      y += 26;
    }
    const values = panel.rows.flatMap((row) => row.values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)));
    const ticks = niceTicks(Math.min(0, ...values), Math.max(0, ...values));
    const lo = ticks[0]!;
    const hi = ticks[ticks.length - 1]!;
    const sx = (v: number) => left + ((v - lo) / (hi - lo)) * (right - left);
    const rowH = spec.series.length * BAR + (spec.series.length - 1) * GAP;
    const top = y;
    const bottom = top + panel.rows.length * (rowH + ROW_GAP);
    for (const t of ticks) body.push(`<line x1="${r(sx(t))}" y1="${top - 4}" x2="${r(sx(t))}" y2="${r(bottom)}" stroke="${GRID}"/>`);
    for (const row of panel.rows) {
      body.push(text(left - 10, y + rowH / 2 + 4.5, truncate(row.label, 28), { anchor: "end", weight: row.highlight ? "bold" : "normal", fill: row.highlight ? OURS[0] : INK }));
      if (row.values.every((v) => v === undefined || !Number.isFinite(v))) {
        body.push(text(sx(0) + 6, y + rowH / 2 + 4.5, truncate(row.note ?? "not measured", 80), { size: 12, italic: true, fill: MUTED }));
      }
      for (const [i, v] of row.values.entries()) {
        const by = y + i * (BAR + GAP);
        if (v === undefined || !Number.isFinite(v)) continue;
        const x0 = sx(Math.min(0, v));
        const w = Math.abs(sx(v) - sx(0));
        const fill = (row.highlight ? OURS : OTHERS)[i % OURS.length]!;
        body.push(`<rect x="${r(x0)}" y="${r(by)}" width="${r(w)}" height="${BAR}" rx="2" fill="${fill}"/>`);
        body.push(text(Math.max(sx(v), sx(0)) + 5, by + BAR / 2 + 4, panel.format(v), { size: 12, weight: row.highlight ? "bold" : "normal" }));
      }
      y += rowH + ROW_GAP;
    }
    body.push(`<line x1="${r(left)}" y1="${r(bottom)}" x2="${r(right)}" y2="${r(bottom)}" stroke="${MUTED}"/>`);
    if (lo < 0) body.push(`<line x1="${r(sx(0))}" y1="${top - 4}" x2="${r(sx(0))}" y2="${r(bottom)}" stroke="${MUTED}"/>`);
    for (const t of ticks) body.push(text(sx(t), bottom + 16, tickLabel(t, ticks), { size: 11, anchor: "middle", fill: MUTED }));
    body.push(text((left + right) / 2, bottom + 34, panel.axis, { size: 12, anchor: "middle", fill: MUTED }));
    y = bottom + 52;
  }
  return svgDocument(y, spec.title, spec.subtitle, body);
}
