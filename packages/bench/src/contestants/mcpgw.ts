/**
 * Our gateway as shipped: its bin, client-key auth, request validation, Prometheus metrics and one
 * JSON log line per request at the default level (to a file, as a container's log driver would).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, spawnPinned, waitForHttp } from "../processes.ts";
import type { ContestantSpec } from "../types.ts";

const PACKAGE = fileURLToPath(new URL("../../../openai-gateway/", import.meta.url));
export const MCPGW_CLIENT_KEY = "bench-client-key-0123456789abcdef";

export const mcpgw = gatewayAt(PACKAGE, "mcpgw", "mcpgw openai-gateway");

/**
 * The gateway package of another checkout (`--baseline DIR`, e.g. a git worktree of main before a
 * change), run exactly as ours is: before/after ratios from one run, on the same machine state.
 */
export const mcpgwBaseline = (packageDir: string) => gatewayAt(packageDir, "mcpgw-baseline", "mcpgw openai-gateway (baseline)");

function gatewayAt(packageDir: string, id: "mcpgw" | "mcpgw-baseline", label: string): ContestantSpec {
  const bin = join(packageDir, "bin", "openai-gateway.js");
  return {
    id,
    label,
    async unavailable() {
      try {
        readFileSync(join(packageDir, "dist", "cli.js"));
        return undefined;
      } catch {
        return `not built: run \`npm run build\` in ${packageDir} first`;
      }
    },
    async start(ctx) {
      const port = await freePort();
      const logFile = join(ctx.workDir, `${id}.log`);
      const started = spawnPinned(process.execPath, [bin, "--port", String(port)], {
        cpu: ctx.cpu,
        logFile,
        env: {
          OPENAI_BASE_URL: `${ctx.upstreamOrigin}/v1`,
          OPENAI_API_KEY: ctx.upstreamKey,
          GATEWAY_API_KEYS: MCPGW_CLIENT_KEY,
          LOG_LEVEL: "info",
        },
      });
      const origin = `http://127.0.0.1:${port}`;
      await waitForHttp(`${origin}/health`, started, 20_000, logFile);
      const version = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }).version;
      return {
        id,
        label,
        baseUrl: `${origin}/v1`,
        headers: { authorization: `Bearer ${MCPGW_CLIENT_KEY}` },
        pid: started.pid,
        version,
        stop: started.stop,
      };
    },
  };
}
