/**
 * Node's request and response to the MCP SDK's web-standard Streamable HTTP transport and back.
 *
 * The SDK's own Node transport does this through @hono/node-server, which, to learn whether a body
 * is short enough for a Content-Length, reads it twice without blocking and, when the first read
 * had a chunk and the second not yet, waits a setTimeout before going on. A POST's SSE answer
 * always starts with the event store's priming event and has its result a moment later, so every
 * relayed tools/call waited that timer: measured 1.2 ms of a 1.9 ms call (issue 16's bench, with
 * protocol 2025-11-25; 0.6 ms with 2025-06-18, which has no priming event). Here each chunk is
 * written as it comes, as an SSE relay should.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";

export async function handleNodeRequest(transport: WebStandardStreamableHTTPServerTransport, req: IncomingMessage, res: ServerResponse, parsedBody: unknown): Promise<void> {
  const aborted = new AbortController();
  res.once("close", () => {
    if (!res.writableFinished) aborted.abort();
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  // The body was read already (parsedBody): the transport takes it from there, not from the stream.
  const request = new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, { method: req.method ?? "GET", headers, signal: aborted.signal });
  const response = await transport.handleRequest(request, parsedBody === undefined ? {} : { parsedBody });
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    out[name] = value;
  });
  res.writeHead(response.status, out);
  if (!response.body) {
    res.end();
    return;
  }
  // An SSE stream may have nothing to say yet: the client sees it open now.
  res.flushHeaders();
  const reader = response.body.getReader();
  res.once("close", () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) await new Promise<void>((resolve) => res.once("drain", resolve).once("close", resolve));
    }
  } catch {
    // The stream was cancelled (the client left) or the transport closed it.
  }
  if (!res.destroyed) res.end();
}
