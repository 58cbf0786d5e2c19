/** Writes a run's raw results, its charts and the page that shows them (docs/benchmarks.md). */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { BenchResults } from "../types.ts";
import { buildCharts } from "./charts.ts";
import type { ProfileSummary } from "./flame-graph.ts";
import { type ProfileLink, renderMarkdown } from "./markdown.ts";

/** What `npm run bench:profile -- --docs` writes into the charts directory. */
export const PROFILE_FILES = { summary: "profile.json", flame: "gateway-flame.svg" } as const;

export interface ReportPaths {
  markdownPath: string;
  chartsDir: string;
  resultsJsonPath: string;
}

/**
 * Writes results.json (the raw results, pretty), one SVG per chart into chartsDir, then the markdown
 * page. The CPU profile section shows what `npm run bench:profile -- --docs` left in chartsDir
 * (profile.json and gateway-flame.svg), which this leaves in place.
 */
export function writeReport(results: BenchResults, opts: ReportPaths): void {
  const pageDir = dirname(opts.markdownPath);
  // Relative links with forward slashes, so the page renders on GitHub wherever the files sit.
  const href = (file: string) => encodeURI(relative(pageDir, file).split(sep).join("/"));

  mkdirSync(dirname(opts.resultsJsonPath), { recursive: true });
  writeFileSync(opts.resultsJsonPath, `${JSON.stringify(results, null, 2)}\n`);

  mkdirSync(opts.chartsDir, { recursive: true });
  const charts = buildCharts(results);
  for (const chart of charts) writeFileSync(join(opts.chartsDir, chart.file), chart.svg);

  mkdirSync(pageDir, { recursive: true });
  const images = charts.map((c) => ({ scenario: c.scenario, alt: c.alt, href: href(join(opts.chartsDir, c.file)) }));
  const summaryPath = join(opts.chartsDir, PROFILE_FILES.summary);
  const flamePath = join(opts.chartsDir, PROFILE_FILES.flame);
  const profile: ProfileLink | undefined =
    existsSync(summaryPath) && existsSync(flamePath) ? { summary: JSON.parse(readFileSync(summaryPath, "utf8")) as ProfileSummary, flameHref: href(flamePath) } : undefined;
  writeFileSync(opts.markdownPath, renderMarkdown(results, images, href(opts.resultsJsonPath), profile));
}
