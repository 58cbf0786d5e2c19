/**
 * How deeply a parsed JSON value nests (a scalar is 0, `[]` and `{}` are 1). Iterative, so a body
 * nested 100,000 deep is measured instead of overflowing the stack, which is what serialising it
 * again would do. Stops as soon as the limit is passed.
 */
export function exceedsJsonDepth(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== "object") return false;
  const stack: unknown[] = [value];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const v = stack.pop() as object;
    const depth = depths.pop()!;
    if (depth > limit) return true;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) {
      if (child !== null && typeof child === "object") {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** The JSON nesting limit both services apply unless configured otherwise: far beyond any real request. */
export const DEFAULT_JSON_DEPTH_LIMIT = 64;
