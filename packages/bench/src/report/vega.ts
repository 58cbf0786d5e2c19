/**
 * Every chart is a vega-lite spec, compiled to vega and rendered headless to a standalone SVG
 * (vega's scenegraph written as SVG text: no canvas, no browser). The look all charts share lives
 * here: a generic sans-serif (no web font to fetch), our gateway in blue, everyone else in greys.
 */
import * as vega from "vega";
import { compile, type Config, type TopLevelSpec } from "vega-lite";

/** The whole chart's width in pixels, axes and labels included. */
export const WIDTH = 800;
export const INK = "#1f2328";
export const MUTED = "#59636e";
/** Ours, per series; then everyone else's. */
export const OURS = ["#0969da", "#80b6f5"];
export const OTHERS = ["#6e7781", "#c3cad3"];

const CONFIG: Config = {
  font: "sans-serif",
  background: "#ffffff",
  padding: 20,
  title: { anchor: "start", color: INK, fontSize: 18, subtitleColor: MUTED, subtitleFontSize: 13, subtitlePadding: 6, offset: 16 },
  axis: { labelColor: MUTED, titleColor: MUTED, labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#d8dee4", domainColor: MUTED, tickColor: MUTED },
  axisY: { labelColor: INK, labelFontSize: 13, labelPadding: 8, domain: false, ticks: false, grid: false },
  legend: { labelColor: INK, labelFontSize: 12, titleFontSize: 12, titleColor: MUTED, titleFontWeight: "normal" },
  header: { labelFontSize: 14 },
  view: { stroke: null },
  concat: { spacing: 28 },
};

// Without a canvas vega guesses 0.8 em a character, which cuts labels a third too early and leaves
// titles adrift; this guess, by kind of character, is close to the sans-serifs browsers show (and
// generous for DejaVu Sans). vega calls textMetrics.width for layout and for cutting labels to fit.
const EM: Array<[RegExp, number]> = [
  [/[ il.,:;'|!()[\]{}/\-]/, 0.32],
  [/[ftrIj]/, 0.4],
  [/[mwMW@%]/, 0.9],
  [/[A-Z]/, 0.7],
];
interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}
// vega exports textMetrics (vega-scenegraph's) at run time, but its typings leave it out.
const { textMetrics } = vega as unknown as { textMetrics: { width(item: TextItem, text?: unknown): number } };
textMetrics.width = (item, text) => {
  const chars = [...String(text ?? "").trim()];
  const em = chars.reduce((sum, c) => sum + (EM.find(([re]) => re.test(c))?.[1] ?? 0.6), 0);
  const bold = item.fontWeight === "bold" || Number(item.fontWeight) >= 600 ? 1.08 : 1;
  const width = em * (item.fontSize ?? 11) * bold;
  return item.limit ? Math.min(width, item.limit) : width;
};

/** The chart as a standalone SVG document. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { spec: compiled } = compile({ ...spec, config: CONFIG } as TopLevelSpec);
  // A loader that refuses everything: the data is inline, so nothing is fetched while rendering.
  const loader = { load: refuse, sanitize: refuse, http: refuse, file: refuse };
  const view = new vega.View(vega.parse(compiled), { renderer: "none", loader: loader as never });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}

async function refuse(uri: unknown): Promise<never> {
  throw new Error(`charts load nothing (asked for ${String(uri)})`);
}

/** A vega expression string literal. */
export function literal(s: string): string {
  return JSON.stringify(s);
}
