/**
 * What a config reload changes in the MCP servers, by name: added, removed, and restarted (any
 * setting differs: transport, command, args, env, cwd, url, headers, disabledTools, toolTimeoutMs,
 * required). A server whose settings are all equal is left alone, its connection and children
 * untouched; the order of keys in env or headers is not a change, the order of args is.
 */
import type { McpServerConfig } from "./types.ts";

export interface ServerChanges {
  added: string[];
  removed: string[];
  restarted: string[];
}

export function serverChanges(current: readonly McpServerConfig[], next: readonly McpServerConfig[]): ServerChanges {
  const before = new Map(current.map((s) => [s.name, s]));
  const after = new Map(next.map((s) => [s.name, s]));
  const changes: ServerChanges = { added: [], removed: [], restarted: [] };
  for (const [name, config] of after) {
    const old = before.get(name);
    if (!old) changes.added.push(name);
    else if (canonical(old) !== canonical(config)) changes.restarted.push(name);
  }
  for (const name of before.keys()) if (!after.has(name)) changes.removed.push(name);
  for (const names of Object.values(changes)) names.sort();
  return changes;
}

/** JSON with object keys sorted (arrays keep their order); undefined values drop out, as in JSON. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
