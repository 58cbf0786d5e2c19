/**
 * Portkey's open-source gateway (the npm build), routed to the static upstream as an OpenAI
 * provider with a custom host. Started headless: the UI is off, everything else at its defaults.
 * It prints nothing per request, but its node middleware still builds a log entry for every /v1/
 * call (clones and parses non-streaming bodies) for its UI's log stream: that cost is part of it.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, spawnPinned, waitForHttp } from "../processes.ts";
import type { ContestantSpec } from "../types.ts";

const PRELOAD = fileURLToPath(new URL("./portkey-fetch-preload.cjs", import.meta.url));

/** Where the installed gateway is and its version; undefined when the devDependency is missing. */
function locate(): { server: string; version: string } | undefined {
  try {
    const pkgJson = createRequire(import.meta.url).resolve("@portkey-ai/gateway/package.json");
    const { version } = JSON.parse(readFileSync(pkgJson, "utf8")) as { version: string };
    return { server: join(dirname(pkgJson), "build", "start-server.js"), version };
  } catch {
    return undefined;
  }
}

const installed = locate();
const LABEL = `Portkey gateway ${installed?.version ?? "(not installed)"}`;

export const portkey: ContestantSpec = {
  id: "portkey",
  label: LABEL,
  async unavailable() {
    return installed ? undefined : "@portkey-ai/gateway is not installed (npm install in packages/bench)";
  },
  async start(ctx) {
    if (!installed) throw new Error("@portkey-ai/gateway is not installed");
    const { server, version } = installed;
    const port = await freePort();
    const logFile = join(ctx.workDir, "portkey.log");
    // Portkey reads its port only from a `--port=N` argument (PORT in the env is not used by start-server).
    const started = spawnPinned(process.execPath, ["--require", PRELOAD, server, `--port=${port}`, "--headless"], {
      cpu: ctx.cpu,
      logFile,
      // An HTTPS upstream's private CA (traffic-shapes scenario); Portkey is Node, so it trusts it as our gateway does.
      ...(ctx.upstreamCa ? { env: { NODE_EXTRA_CA_CERTS: ctx.upstreamCa } } : {}),
    });
    const origin = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${origin}/`, started, 30_000, logFile);
    } catch (err) {
      await started.stop();
      throw err;
    }
    ctx.log(`portkey ${version} on ${origin} (pid ${started.pid})`);
    return {
      id: "portkey",
      label: LABEL,
      baseUrl: `${origin}/v1`,
      headers: {
        authorization: `Bearer ${ctx.upstreamKey}`,
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": `${ctx.upstreamOrigin}/v1`,
      },
      pid: started.pid,
      version,
      stop: () => started.stop(),
    };
  },
};
