/** A line chart as a vega-lite spec: one line per contestant over the connection counts tried. */
import type { TopLevelSpec } from "vega-lite";
import { INK, literal, OURS, WIDTH } from "./vega.ts";

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

/** Lines need telling apart, so the others get a dash pattern as well as a grey. */
const OTHER_LINES = [
  { colour: "#3d444d", dash: [1, 0] },
  { colour: "#8c959f", dash: [6, 4] },
  { colour: "#57606a", dash: [2, 3] },
  { colour: "#afb8c1", dash: [10, 3, 2, 3] },
];

export function lineChart(spec: LineChartSpec): TopLevelSpec {
  const values = spec.series.flatMap((s) => s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y)).map((p) => ({ label: s.label, ours: s.highlight, x: p.x, y: p.y })));
  let others = 0;
  const styles = spec.series.map((s) => (s.highlight ? { colour: OURS[0]!, dash: [1, 0] } : OTHER_LINES[others++ % OTHER_LINES.length]!));
  const ours = spec.series.filter((s) => s.highlight).map((s) => `datum.value === ${literal(s.label)}`).join(" || ") || "false";
  const encoding = {
    // Evenly spaced categories: the counts double, so a linear axis would bunch the first ones together.
    x: { field: "x", type: "ordinal", title: spec.xAxis, axis: { labelAngle: 0 } },
    y: { field: "y", type: "quantitative", title: spec.yAxis, axis: { format: ",~r", tickCount: 5 } },
    color: {
      field: "label",
      type: "nominal",
      scale: { domain: spec.series.map((s) => s.label), range: styles.map((s) => s.colour) },
      legend: {
        title: null,
        orient: "right",
        labelLimit: 220,
        symbolType: "stroke",
        symbolStrokeWidth: 2.5,
        symbolSize: 700,
        labelFontWeight: { expr: `${ours} ? 'bold' : 'normal'` },
        labelColor: { expr: `${ours} ? '${OURS[0]}' : '${INK}'` },
      },
    },
    strokeDash: { field: "label", type: "nominal", scale: { domain: spec.series.map((s) => s.label), range: styles.map((s) => s.dash) } },
  };
  // Ours drawn last, on top of the others.
  const layer = (test: string, width: number, size: number) => ({
    transform: [{ filter: test }],
    mark: { type: "line", strokeWidth: width, strokeJoin: "round", point: { filled: true, size } },
    encoding,
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: spec.title, ...(spec.subtitle ? { subtitle: spec.subtitle } : {}) },
    width: WIDTH - 330,
    height: 280,
    data: { values },
    layer: [layer("!datum.ours", 2, 30), layer("datum.ours", 3, 55)],
  } as TopLevelSpec;
}
