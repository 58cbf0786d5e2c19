/** A bare node:http pass-through proxy (node-proxy-server.ts): the floor for any Node gateway. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, spawnPinned, waitForHttp } from "../processes.ts";
import type { ContestantSpec } from "../types.ts";

const LABEL = "bare node:http proxy";
const SERVER = fileURLToPath(new URL("./node-proxy-server.ts", import.meta.url));

/**
 * The server as plain JS in workDir. Run as .ts, node loads its type stripper (~17 MB of RSS) into
 * the very process whose memory is the floor; built gateways do not carry it. stripTypeScriptTypes
 * runs in a throwaway node so its experimental warning stays out of the harness's output.
 */
function emitJs(workDir: string): string {
  const out = join(workDir, "node-proxy-server.mjs");
  const code = `import{stripTypeScriptTypes as s}from"node:module";import{readFileSync as r,writeFileSync as w}from"node:fs";w(process.argv[2],s(r(process.argv[1],"utf8")))`;
  execFileSync(process.execPath, ["--no-warnings", "--input-type=module", "-e", code, SERVER, out]);
  return out;
}

export const nodeProxy: ContestantSpec = {
  id: "node-proxy",
  label: LABEL,
  async unavailable() {
    return undefined;
  },
  async start(ctx) {
    const port = await freePort();
    const logFile = join(ctx.workDir, "node-proxy.log");
    // The same node as the harness and the gateway under test, so the comparison is Node to Node.
    const started = spawnPinned(process.execPath, [emitJs(ctx.workDir), "--port", String(port), "--upstream", ctx.upstreamOrigin], {
      cpu: ctx.cpu,
      logFile,
      // An HTTPS upstream's private CA (traffic-shapes scenario).
      ...(ctx.upstreamCa ? { env: { NODE_EXTRA_CA_CERTS: ctx.upstreamCa } } : {}),
    });
    const origin = `http://127.0.0.1:${port}`;
    try {
      await waitForHttp(`${origin}/v1/models`, started, 10_000, logFile);
    } catch (err) {
      await started.stop();
      throw err;
    }
    ctx.log(`node-proxy (node ${process.versions.node}) on ${origin} (pid ${started.pid})`);
    return {
      id: "node-proxy",
      label: LABEL,
      baseUrl: `${origin}/v1`,
      headers: { authorization: `Bearer ${ctx.upstreamKey}` },
      pid: started.pid,
      version: process.versions.node,
      stop: () => started.stop(),
    };
  },
};
