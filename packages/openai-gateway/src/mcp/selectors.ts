/**
 * Tool selectors, used wherever tools are granted: `*` (every tool), `server` (all its tools),
 * `server/tool` (one), `server/prefix*` (the server's tools whose names start with prefix).
 * They use the configured server name and the server's own tool name, never the public name, so
 * a grant reads the way the config and the server's docs spell things.
 *
 * @example matchesSelector("github/search*", "github", "search_issues") // true
 */
export function matchesSelector(selector: string, server: string, tool: string): boolean {
  if (selector === "*") return true;
  const slash = selector.indexOf("/");
  if (slash < 0) return selector === server;
  if (selector.slice(0, slash) !== server) return false;
  const pattern = selector.slice(slash + 1);
  return pattern.endsWith("*") ? tool.startsWith(pattern.slice(0, -1)) : tool === pattern;
}
