/**
 * Horizontal bar charts as vega-lite specs: a row per contestant, one bar per series (p50 and p99),
 * in one or more stacked panels that each have their own scale: first-chunk times and last-chunk
 * times differ by a hundredfold.
 */
import type { TopLevelSpec } from "vega-lite";
import { INK, literal, MUTED, OTHERS, OURS, WIDTH } from "./vega.ts";

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
  /** Room for the row labels, in pixels; long ones are cut with an ellipsis. */
  labelWidth?: number;
}

const BAR = 17;
const ROW_GAP = 12;
/** Room right of the plot for the longest bar's value, and the page's margins. */
const RIGHT = 120;

export function barChart(spec: BarChartSpec): TopLevelSpec {
  const labelWidth = spec.labelWidth ?? 230;
  const legend = spec.series.length > 1;
  // ours-p50, ours-p99, then the others': the legend reads "p50 (ours)", "p99 (ours)", "p50", "p99".
  const key = (highlight: boolean, series: string) => (legend ? (highlight ? `${series} (ours)` : series) : highlight ? "ours" : "others");
  const keys = [...spec.series.map((s) => key(true, s)), ...spec.series.map((s) => key(false, s))];
  const colours = [...spec.series.map((_, i) => OURS[i % OURS.length]!), ...spec.series.map((_, i) => OTHERS[i % OTHERS.length]!)];
  const ours = spec.panels.flatMap((p) => p.rows.filter((r) => r.highlight).map((r) => `datum.value === ${literal(r.label)}`)).join(" || ") || "false";
  const rowHeight = spec.series.length * BAR + ROW_GAP;

  const panel = (p: BarPanel) => {
    const bars = p.rows.flatMap((row) =>
      row.values.flatMap((value, i) => {
        if (value === undefined || !Number.isFinite(value)) return [];
        const series = spec.series[i]!;
        const text = p.format(value);
        // `at` places the value's label past the bar's end, even for a bar left of zero; `aria` is what a screen reader says.
        return [{ row: row.label, series, key: key(row.highlight, series), ours: row.highlight, value, at: Math.max(0, value), text, aria: `${row.label}${legend ? `, ${series}` : ""}: ${text}` }];
      }),
    );
    const notes = p.rows.filter((row) => !bars.some((b) => b.row === row.label)).map((row) => ({ row: row.label, note: row.note ?? "not measured" }));
    const y = { field: "row", type: "nominal", title: null, scale: { domain: p.rows.map((r) => r.label), paddingInner: ROW_GAP / rowHeight, paddingOuter: 0.2 } } as const;
    const yOffset = legend ? { yOffset: { field: "series", type: "nominal", scale: { domain: spec.series, paddingInner: 0.12 } } as const } : {};
    return {
      ...(p.title ? { title: { text: p.title, fontSize: 14, color: INK } } : {}),
      width: WIDTH - labelWidth - RIGHT,
      height: { step: rowHeight, for: "position" },
      layer: [
        {
          data: { values: bars },
          mark: { type: "bar" },
          encoding: {
            y: { ...y, axis: { labelLimit: labelWidth - 10, minExtent: labelWidth, maxExtent: labelWidth, labelColor: { condition: { test: ours, value: OURS[0] }, value: INK }, labelFontWeight: { condition: { test: ours, value: "bold" }, value: "normal" } } },
            ...yOffset,
            x: { field: "value", type: "quantitative", title: p.axis, scale: { nice: 5 }, axis: { tickCount: 5, format: ",~r" } },
            color: { field: "key", type: "nominal", scale: { domain: keys, range: colours }, legend: legend ? { orient: "top", title: null, direction: "horizontal" } : null },
            description: { field: "aria" },
          },
        },
        {
          data: { values: bars },
          mark: { type: "text", align: "left", dx: 5, fontSize: 12, color: INK, fontWeight: { expr: "datum.ours ? 'bold' : 'normal'" } },
          encoding: { y, ...yOffset, x: { field: "at", type: "quantitative" }, text: { field: "text" } },
        },
        ...(notes.length
          ? [{ data: { values: notes }, mark: { type: "text", align: "left", dx: 6, fontSize: 12, fontStyle: "italic", color: MUTED, limit: 480 }, encoding: { y, x: { datum: 0, type: "quantitative" }, text: { field: "note" } } }]
          : []),
      ],
    };
  };

  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: spec.title, ...(spec.subtitle ? { subtitle: spec.subtitle } : {}) },
    vconcat: spec.panels.map(panel),
  } as TopLevelSpec;
}
