/** Starts the static upstream as its own pinned process and returns its origin. */
import { fileURLToPath } from "node:url";
import { freePort, spawnPinned, waitForHttp, type Started } from "../processes.ts";

const SCRIPT = fileURLToPath(new URL("./static-upstream.ts", import.meta.url));

export interface Upstream {
  origin: string;
  key: string;
  started: Started;
}

export async function startUpstream(cpu: number, key: string, logFile: string): Promise<Upstream> {
  const port = await freePort();
  const started = spawnPinned(process.execPath, [SCRIPT, "--port", String(port), "--api-key", key], { cpu, logFile });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(`${origin}/v1/models`, started, 10_000, logFile);
  return { origin, key, started };
}
