/**
 * The two other upstreams of the traffic-shapes scenario, answering as the static upstream does for
 * the `bench-answer-*` models (shaped-answers.ts): one in the harness's own process (plain HTTP: no
 * process wake-up between the load generator and the upstream), and one over HTTPS in a process of
 * its own, with a certificate from the run's private CA. Each counts the chat requests it answered,
 * and how many came over TLS, so that a run can show the HTTPS shapes really went over TLS.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, spawnPinned, type Started } from "../processes.ts";
import { sendShapedAnswer } from "./shaped-answers.ts";

export interface UpstreamCounts {
  /** Chat completion requests answered. */
  requests: number;
  /** Of those, the ones that came over a TLS socket. */
  overTls: number;
}

export const STATS_PATH = "/bench-stats";
const SERVER_SCRIPT = fileURLToPath(new URL("./tls-upstream-server.ts", import.meta.url));
const created = 1_763_800_000;
const models = Buffer.from(JSON.stringify({ object: "list", data: [{ id: "bench-answer-1k-length", object: "model", created, owned_by: "bench" }] }));
const error = (message: string, code: string | null) => Buffer.from(JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code } }));
const unauthorized = error("Incorrect API key provided", "invalid_api_key");
const unknownModel = error("this upstream answers the bench-answer-* models only", "model_not_found");

function sendJson(res: ServerResponse, status: number, body: Buffer) {
  res.writeHead(status, { "content-type": "application/json", "content-length": body.length });
  res.end(body);
}

/** The upstream's server, not yet listening: HTTPS when `tls` is given. */
export function createShapedServer(key: string, tls?: { cert: string; key: string }): { server: Server; counts: UpstreamCounts } {
  const counts: UpstreamCounts = { requests: 0, overTls: 0 };
  const expectedAuth = `Bearer ${key}`;
  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    if (req.headers.authorization !== expectedAuth) return sendJson(res, 401, unauthorized);
    if (req.method === "GET" && req.url === STATS_PATH) return sendJson(res, 200, Buffer.from(JSON.stringify(counts)));
    if (req.method === "GET" && req.url?.startsWith("/v1/models")) return sendJson(res, 200, models);
    if (req.method !== "POST" || !req.url?.startsWith("/v1/chat/completions")) return sendJson(res, 404, error("not found", null));
    counts.requests++;
    if ((req.socket as TLSSocket).encrypted === true) counts.overTls++;
    if (!sendShapedAnswer(res, body)) sendJson(res, 404, unknownModel);
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(parts).toString("latin1")));
  };
  // As the static upstream: idle keep-alive connections stay open for the whole run.
  const server = tls ? createHttpsServer({ ...tls, keepAliveTimeout: 60_000 }, listener) : createHttpServer({ keepAliveTimeout: 60_000 }, listener);
  server.maxRequestsPerSocket = 0;
  return { server, counts };
}

export interface ShapedUpstream {
  origin: string;
  counts(): Promise<UpstreamCounts>;
  stop(): Promise<void>;
}

/** The plain-HTTP upstream inside this (the harness's) process. */
export async function startInProcessUpstream(key: string): Promise<ShapedUpstream> {
  const { server, counts } = createShapedServer(key);
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    counts: async () => ({ ...counts }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The HTTPS upstream as its own process (tls-upstream-server.ts), pinned to `cpu`, ready once it answers over TLS. */
export async function startTlsUpstream(opts: { cpu: number; key: string; caFile: string; certFile: string; keyFile: string; logFile: string }): Promise<ShapedUpstream & { pid: number }> {
  const port = await freePort();
  const started = spawnPinned(process.execPath, [SERVER_SCRIPT, "--port", String(port), "--api-key", opts.key, "--cert", opts.certFile, "--key", opts.keyFile], { cpu: opts.cpu, logFile: opts.logFile });
  const origin = `https://127.0.0.1:${port}`;
  const ca = readFileSync(opts.caFile, "utf8");
  const counts = async () => JSON.parse(await getOverTls(`${origin}${STATS_PATH}`, ca, opts.key)) as UpstreamCounts;
  try {
    await waitForTls(started, counts);
  } catch (err) {
    await started.stop();
    throw err;
  }
  return { origin, pid: started.pid, counts, stop: () => started.stop() };
}

/** Polls until the server answers over TLS with a certificate the CA vouches for. */
async function waitForTls(started: Started, probe: () => Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < until) {
    if (started.proc.exitCode !== null) throw new Error(`the HTTPS upstream exited with ${started.proc.exitCode}`);
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
      await sleep(50);
    }
  }
  throw new Error(`the HTTPS upstream did not answer within ${timeoutMs} ms: ${String((lastError as Error)?.message ?? lastError)}`);
}

/** A GET over TLS trusting `ca` only; resolves with the body of a 200 answer. */
function getOverTls(url: string, ca: string, key: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false, headers: { authorization: `Bearer ${key}` }, timeout: 2000 }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${url}: status ${res.statusCode}`))));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer in 2 s`)));
    req.on("error", reject);
    req.end();
  });
}
