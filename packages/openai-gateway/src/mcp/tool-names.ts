/**
 * The names models see for MCP tools: `{server}__{tool}` rewritten to OpenAI's function-name rule
 * ^[a-zA-Z0-9_-]{1,64}$. Other characters become `_`; a name that is too long, or that several tools
 * would share after rewriting, is shortened and given a suffix of 6 hex characters of
 * sha256(`server\0tool`), so the same tool gets the same name on every start and on every gateway.
 * Every member of a clash gets a suffix, not just the second one found: which one the servers list
 * first then does not matter.
 */
import { createHash } from "node:crypto";

export const MAX_TOOL_NAME = 64;
const SEPARATOR = "__";
const HASH_CHARS = 6;

export interface ToolRef {
  server: string;
  tool: string;
}

/** A name with every character outside [a-zA-Z0-9_-] replaced by `_` (empty becomes `_`). */
export function sanitizeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_-]/g, "_") || "_";
}

/**
 * Public names for a set of tools, as a map from public name to tool (the reverse map the gateway
 * keeps). The result depends only on the set, not on its order.
 */
export function publicToolNames(tools: ToolRef[]): Map<string, ToolRef> {
  const plain = tools.map((t) => sanitizeName(`${t.server}${SEPARATOR}${t.tool}`));
  const uses = new Map<string, number>();
  for (const p of plain) uses.set(p, (uses.get(p) ?? 0) + 1);

  const named = new Map<string, ToolRef>();
  // Hashed names first, in a fixed order: a plain name that happens to look like a hashed one
  // (a tool really called `x_1a2b3c`) then yields to the hashed one, not the other way round.
  const order = tools
    .map((t, i) => ({ t, plain: plain[i]!, hashed: plain[i]!.length > MAX_TOOL_NAME || uses.get(plain[i]!)! > 1 }))
    .sort((a, b) => Number(b.hashed) - Number(a.hashed) || compare(a.t, b.t));
  for (const { t, plain: p, hashed } of order) {
    let name = hashed ? withHash(p, t, HASH_CHARS) : p;
    // A longer hash only for a name still taken, which takes a tool named after another's hash.
    for (let chars = HASH_CHARS + 2; named.has(name) && chars <= 32; chars += 2) name = withHash(p, t, chars);
    if (!named.has(name)) named.set(name, t);
  }
  return named;
}

/**
 * An error message naming two servers whose names rewrite to the same prefix (`my.server` and
 * `my_server`), whose tools could then not be told apart; undefined when every name is distinct.
 */
export function checkServerNames(names: string[]): string | undefined {
  const seen = new Map<string, string>();
  for (const name of names) {
    const prefix = sanitizeName(name);
    const other = seen.get(prefix);
    if (other !== undefined) {
      return `the servers "${other}" and "${name}" would both offer their tools as "${prefix}${SEPARATOR}..." (characters other than letters, digits, "_" and "-" become "_"); rename one`;
    }
    seen.set(prefix, name);
  }
  return undefined;
}

function withHash(plain: string, t: ToolRef, chars: number): string {
  const hash = createHash("sha256").update(`${t.server}\0${t.tool}`).digest("hex").slice(0, chars);
  return `${plain.slice(0, MAX_TOOL_NAME - chars - 1)}_${hash}`;
}

function compare(a: ToolRef, b: ToolRef): number {
  return a.server < b.server ? -1 : a.server > b.server ? 1 : a.tool < b.tool ? -1 : a.tool > b.tool ? 1 : 0;
}
