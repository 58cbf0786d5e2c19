/** Which public model names a client key may use: exact names, `prefix*` patterns, or `*`. */
export function mayUse(patterns: string[], model: string): boolean {
  for (const p of patterns) {
    if (p === "*" || p === model) return true;
    if (p.endsWith("*") && model.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}
