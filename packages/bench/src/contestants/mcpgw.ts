/**
 * Our gateway as shipped: its bin, client-key auth, request validation, Prometheus metrics and one
 * JSON log line per request at the default level (to a file, as a container's log driver would).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, spawnPinned, waitForHttp } from "../processes.ts";
import type { ContestantSpec, StartContext } from "../types.ts";

export const MCPGW_PACKAGE = fileURLToPath(new URL("../../../openai-gateway/", import.meta.url));
export const MCPGW_CLIENT_KEY = "bench-client-key-0123456789abcdef";

export const mcpgw = gatewayAt(MCPGW_PACKAGE, "mcpgw", "mcpgw openai-gateway");

/**
 * The gateway package of another checkout (`--baseline DIR`, e.g. a git worktree of main before a
 * change), run exactly as ours is: before/after ratios from one run, on the same machine state.
 */
export const mcpgwBaseline = (packageDir: string) => gatewayAt(packageDir, "mcpgw-baseline", "mcpgw openai-gateway (baseline)");

function gatewayAt(packageDir: string, id: "mcpgw" | "mcpgw-baseline", label: string): ContestantSpec {
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
    // The simple case, configured from the environment alone: one key in GATEWAY_API_KEYS.
    start: (ctx) => startGatewayAt(packageDir, id, label, ctx, { env: { GATEWAY_API_KEYS: MCPGW_CLIENT_KEY }, key: MCPGW_CLIENT_KEY }),
  };
}

export interface GatewayLaunch {
  /** Written to the run's workDir as ID.json and passed with --config; none: the environment alone. */
  config?: object;
  /** Environment beside the upstream's (client keys: GATEWAY_API_KEYS, or the variables a config's keyEnv names). */
  env: Record<string, string>;
  /** The client key its requests carry. */
  key: string;
}

/**
 * Starts the gateway of `packageDir` as `id`, pinned to the contestant's core. Its data directory
 * (usage records, chat sessions) is a folder of its own in the workDir, so that several gateways of
 * one run never share a SQLite file.
 */
export async function startGatewayAt<Id extends string>(packageDir: string, id: Id, label: string, ctx: StartContext, launch: GatewayLaunch) {
  const bin = join(packageDir, "bin", "openai-gateway.js");
  const port = await freePort();
  const logFile = join(ctx.workDir, `${id}.log`);
  const args = [bin, "--port", String(port)];
  if (launch.config) {
    const file = join(ctx.workDir, `${id}.json`);
    writeFileSync(file, JSON.stringify(launch.config, null, 2));
    args.push("--config", file);
  }
  const started = spawnPinned(process.execPath, args, {
    cpu: ctx.cpu,
    logFile,
    env: {
      OPENAI_BASE_URL: `${ctx.upstreamOrigin}/v1`,
      OPENAI_API_KEY: ctx.upstreamKey,
      GATEWAY_DATA_DIR: join(ctx.workDir, `${id}-data`),
      LOG_LEVEL: "info",
      // An HTTPS upstream's private CA (traffic-shapes scenario): trusted as an operator would trust theirs.
      ...(ctx.upstreamCa ? { NODE_EXTRA_CA_CERTS: ctx.upstreamCa } : {}),
      ...launch.env,
    },
  });
  const origin = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${origin}/health`, started, 20_000, logFile);
  } catch (err) {
    await started.stop();
    throw err;
  }
  const version = (JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as { version: string }).version;
  return {
    id,
    label,
    baseUrl: `${origin}/v1`,
    headers: { authorization: `Bearer ${launch.key}` },
    pid: started.pid,
    version,
    stop: started.stop,
  };
}
