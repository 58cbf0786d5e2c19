/** Writes a run's raw results, its charts and the page that shows them (docs/benchmarks.md). */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { BenchResults } from "../types.ts";
import { renderCharts, selfTimeChart } from "./charts.ts";
import type { ProfileSummary } from "./cpu-profile.ts";
import { type ProfileLink, renderMarkdown } from "./markdown.ts";

/** What `npm run bench:profile` writes (with --docs, into the charts directory). */
export const PROFILE_FILES = { summary: "profile.json", chart: "gateway-self-time.svg", speedscope: "gateway.speedscope.json" } as const;

export interface ReportPaths {
  markdownPath: string;
  chartsDir: string;
  resultsJsonPath: string;
}

/**
 * Writes results.json (the raw results, pretty), one SVG per chart into chartsDir, then the markdown
 * page. Where `npm run bench:profile -- --docs` left a profile.json in chartsDir, the page also gets
 * its self-time chart, and a link to the whole profile (gateway.speedscope.json) when that is there.
 */
export async function writeReport(results: BenchResults, opts: ReportPaths): Promise<void> {
  const pageDir = dirname(opts.markdownPath);
  // Relative links with forward slashes, so the page renders on GitHub wherever the files sit.
  const href = (file: string) => encodeURI(relative(pageDir, file).split(sep).join("/"));

  mkdirSync(dirname(opts.resultsJsonPath), { recursive: true });
  writeFileSync(opts.resultsJsonPath, `${JSON.stringify(results, null, 2)}\n`);

  mkdirSync(opts.chartsDir, { recursive: true });
  const charts = await renderCharts(results);
  for (const chart of charts) writeFileSync(join(opts.chartsDir, chart.file), chart.svg);


  const at = (file: string) => join(opts.chartsDir, file);
  let profile: ProfileLink | undefined;
  if (existsSync(at(PROFILE_FILES.summary))) {
    const summary = JSON.parse(readFileSync(at(PROFILE_FILES.summary), "utf8")) as ProfileSummary;
    writeFileSync(at(PROFILE_FILES.chart), await selfTimeChart(summary));
    const speedscope = existsSync(at(PROFILE_FILES.speedscope)) ? { speedscopeHref: href(at(PROFILE_FILES.speedscope)) } : {};
    profile = { summary, chartHref: href(at(PROFILE_FILES.chart)), ...speedscope };
  }

  mkdirSync(pageDir, { recursive: true });
  const images = charts.map((c) => ({ scenario: c.scenario, alt: c.alt, href: href(join(opts.chartsDir, c.file)) }));
  writeFileSync(opts.markdownPath, renderMarkdown(results, images, href(opts.resultsJsonPath), profile));
}
