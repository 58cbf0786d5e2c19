/**
 * The environment of a stdio MCP server: PATH, HOME, LANG and TMPDIR from the gateway (what a
 * program needs to find its interpreter, its home and a temp folder) plus the server's configured
 * `env`, and nothing else: the gateway's own environment holds upstream keys.
 */
export const INHERITED_ENV = ["PATH", "HOME", "LANG", "TMPDIR"] as const;

/** The inherited variables as the gateway had them when the registry was created (config is read once, at start). */
export function inheritedEnv(from: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of INHERITED_ENV) {
    const value = from[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/**
 * The `env` to hand the SDK's StdioClientTransport. It merges its own defaults (HOME, LOGNAME,
 * SHELL, TERM, USER...) under whatever it is given; naming them with undefined removes them again
 * (child_process skips undefined values), unless the config or the inherited set gives them.
 */
export function stdioEnv(inherited: Record<string, string>, configured: Record<string, string>, sdkDefaults: readonly string[]): Record<string, string> {
  const removed = Object.fromEntries(sdkDefaults.map((k) => [k, undefined]));
  return { ...removed, ...inherited, ...configured } as Record<string, string>;
}
