/**
 * The floor for a Node gateway: a pass-through proxy on node:http and nothing else (no auth, no
 * parsing, no logging). Whatever a Node gateway costs above this is its own work.
 *
 *   node node-proxy-server.ts --port 0 --upstream http://127.0.0.1:PORT   # prints "listening on ..."
 */
import { Agent, createServer, request, type IncomingHttpHeaders } from "node:http";
import { pipeline } from "node:stream";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, upstream: { type: "string" } } });
if (!values.upstream) throw new Error("--upstream http://host:port is required");
const upstream = new URL(values.upstream);
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

// Hop-by-hop headers describe one connection, not the message: each side sets its own.
const HOP = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"]);
const endToEnd = (h: IncomingHttpHeaders) => Object.fromEntries(Object.entries(h).filter(([k]) => !HOP.has(k)));

const server = createServer((req, res) => {
  const up = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...endToEnd(req.headers), host: upstream.host }, agent },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEnd(upRes.headers));
      // Each chunk is written as it arrives, so SSE events are not held back.
      pipeline(upRes, res, () => {});
    },
  );
  up.on("error", (err) => {
    if (res.headersSent) return res.destroy(err);
    const body = JSON.stringify({ error: { message: `upstream unreachable: ${err.message}`, type: "bad_gateway", param: null, code: null } });
    res.writeHead(502, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  // The client went before the answer was done: free the upstream request too.
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
