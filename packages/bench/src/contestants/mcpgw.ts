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
const BIN = join(PACKAGE, "bin", "openai-gateway.js");
export const MCPGW_CLIENT_KEY = "bench-client-key-0123456789abcdef";

export const mcpgw: ContestantSpec = {
  id: "mcpgw",
  label: "mcpgw openai-gateway",
  async unavailable() {
    try {
      readFileSync(join(PACKAGE, "dist", "cli.js"));
      return undefined;
    } catch {
      return "not built: run `npm run build` first";
    }
  },
  async start(ctx) {
    const port = await freePort();
    const logFile = join(ctx.workDir, "mcpgw.log");
    const started = spawnPinned(process.execPath, [BIN, "--port", String(port)], {
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
    const version = (JSON.parse(readFileSync(join(PACKAGE, "package.json"), "utf8")) as { version: string }).version;
    return {
      id: "mcpgw",
      label: "mcpgw openai-gateway",
      baseUrl: `${origin}/v1`,
      headers: { authorization: `Bearer ${MCPGW_CLIENT_KEY}` },
      pid: started.pid,
      version,
      stop: started.stop,
    };
  },
};
