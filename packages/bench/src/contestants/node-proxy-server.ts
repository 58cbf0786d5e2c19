/**
 * The floor for a Node gateway: a pass-through proxy on node:http and nothing else (no auth, no
 * parsing, no logging). Whatever a Node gateway costs above this is its own work.
 *
 *   node node-proxy-server.ts --port 0 --upstream http://127.0.0.1:PORT   # prints "listening on ..."
 */
import { Agent, createServer, request } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, upstream: { type: "string" } } });
if (!values.upstream) throw new Error("--upstream http://host:port is required");
const upstream = new URL(values.upstream);
// An https upstream (the traffic-shapes scenario's) goes through node:https, trusting NODE_EXTRA_CA_CERTS.
const tls = upstream.protocol === "https:";
const agent = tls ? new HttpsAgent({ keepAlive: true, maxSockets: Infinity }) : new Agent({ keepAlive: true, maxSockets: Infinity });
const send: typeof request = tls ? httpsRequest : request;
const host = upstream.hostname;
const port = upstream.port;

// As lean as node:http allows, so that it is a floor: the headers go on as they came (Node
// itself frames each side's message: a hop-by-hop header only describes what it then does), and
// the bodies are piped, each chunk written as it arrives (SSE events are not held back).
const server = createServer((req, res) => {
  const headers = req.headers;
  headers.host = upstream.host;
  const up = send({ host, port, method: req.method, path: req.url, headers, agent }, (upRes) => {
    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
    upRes.pipe(res);
  });
  up.on("error", () => {
    if (res.headersSent) return res.destroy();
    res.writeHead(502).end();
  });
  // The client went before the answer was done: free the upstream request too (a held stream
  // would otherwise run on upstream).
  res.once("close", () => {
    if (!res.writableFinished) up.destroy();
  });
  req.pipe(up);
});

server.listen(Number(values.port), "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`listening on http://127.0.0.1:${port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
