/**
 * Just enough Markdown reading for the docs tests: fenced code blocks, headings, pipe tables and
 * relative links, each with the line it starts on so a failure can say where to look.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));

export interface Fence {
  file: string;
  line: number;
  lang: string;
  text: string;
}

export interface Table {
  line: number;
  header: string[];
  rows: { line: number; cells: string[] }[];
}

/** docs/**\/*.md, the root README.md and every packages/*\/README.md, as paths relative to the repository. */
export function markdownFiles(): string[] {
  const files = ["README.md"];
  for (const pkg of readdirSync(join(REPO, "packages"), { withFileTypes: true })) {
    if (!pkg.isDirectory()) continue;
    const readme = join("packages", pkg.name, "README.md");
    if (exists(readme)) files.push(readme);
  }
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".md")) files.push(path);
    }
  };
  walk("docs");
  return files;
}

export function read(file: string): string {
  return readFileSync(join(REPO, file), "utf8");
}

function exists(file: string): boolean {
  try {
    readFileSync(join(REPO, file));
    return true;
  } catch {
    return false;
  }
}

const FENCE_OPEN = /^( {0,12})(`{3,}|~{3,})\s*([\w+-]*)[^`]*$/;

/** Fenced code blocks, with the fence's indentation removed from their lines (blocks inside lists). */
export function fences(file: string, text = read(file)): Fence[] {
  const lines = text.split("\n");
  const out: Fence[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (!open) continue;
    const [, indent = "", marker = "", lang = ""] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j]!;
      if (l.trim().startsWith(marker) && l.trim().replace(/[`~]/g, "") === "") break;
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
    }
    out.push({ file, line: i + 1, lang: lang.toLowerCase(), text: body.join("\n") });
    i = j;
  }
  return out;
}

/** The text with fenced blocks blanked out (line numbers kept), so prose checks skip code. */
export function prose(text: string): string {
  const lines = text.split("\n");
  let inFence: string | undefined;
  return lines
    .map((l) => {
      const t = l.trim();
      if (inFence) {
        if (t.startsWith(inFence) && t.replace(/[`~]/g, "") === "") inFence = undefined;
        return "";
      }
      const open = FENCE_OPEN.exec(l);
      if (open) {
        inFence = open[2];
        return "";
      }
      return l;
    })
    .join("\n");
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, duplicates numbered. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of prose(text).split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const plain = m[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*]/g, "");
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

/** Inline and reference-style link targets outside code, with their line numbers. */
export function links(text: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  prose(text)
    .split("\n")
    .forEach((raw, i) => {
      const line = raw.replace(/`[^`]*`/g, "");
      for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) out.push({ line: i + 1, target: m[1]! });
      const ref = /^\s*\[[^\]]+\]:\s*<?(\S+?)>?(\s|$)/.exec(line);
      if (ref) out.push({ line: i + 1, target: ref[1]! });
    });
  return out;
}

/** Splits a table row on pipes that are not escaped (`\|`) and not inside a code span. */
function cells(row: string): string[] {
  const out: string[] = [];
  let cell = "";
  let inCode = false;
  const s = row.trim().replace(/^\|/, "").replace(/\|$/, "");
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "\\" && s[i + 1] === "|") {
      cell += "|";
      i++;
    } else if (c === "`") {
      inCode = !inCode;
      cell += c;
    } else if (c === "|" && !inCode) {
      out.push(cell.trim());
      cell = "";
    } else cell += c;
  }
  out.push(cell.trim());
  return out;
}

/** The first pipe table after the heading whose text matches `heading`. */
export function tableAfter(text: string, heading: RegExp): Table {
  const lines = prose(text).split("\n");
  const start = lines.findIndex((l) => /^#{1,6}\s/.test(l) && heading.test(l));
  if (start < 0) throw new Error(`no heading matching ${heading}`);
  for (let i = start + 1; i < lines.length; i++) {
    if (/^#{1,6}\s/.test(lines[i]!)) break;
    if (!lines[i]!.trim().startsWith("|") || !/^\s*\|?\s*:?-{3,}/.test(lines[i + 1] ?? "")) continue;
    const table: Table = { line: i + 1, header: cells(lines[i]!).map((h) => h.toLowerCase()), rows: [] };
    for (let j = i + 2; j < lines.length && lines[j]!.trim().startsWith("|"); j++) {
      table.rows.push({ line: j + 1, cells: cells(lines[j]!) });
    }
    return table;
  }
  throw new Error(`no table under the heading matching ${heading}`);
}

/** A cell's column by header name. */
export function column(table: Table, name: string): number {
  const i = table.header.indexOf(name);
  if (i < 0) throw new Error(`table at line ${table.line} has no '${name}' column (has: ${table.header.join(", ")})`);
  return i;
}

/** The code spans of a cell, in order. */
export function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/**
 * The default a table cell states: undefined when the cell says there is none (starts with a dash
 * or "required"), else its first code span.
 */
export function statedDefault(cell: string): string | undefined {
  const t = cell.trim();
  if (t === "" || /^(—|-|–|required)/i.test(t)) return undefined;
  const spans = codeSpans(t);
  if (spans.length === 0) throw new Error(`default cell '${cell}' has neither a dash nor a \`value\``);
  return spans[0];
}

export function where(file: string, line: number): string {
  return `${file}:${line}`;
}
