/**
 * A tools/call over an MCP session that an SDK Client opened, made by a bare node:http client: one
 * POST with the session's id and protocol version, the answer (JSON or an SSE stream) read whole.
 * Timed beside the SDK's client, it shows what the HTTP server side costs without the client's own
 * parsing and validation.
 */
import { Agent, request } from "node:http";
import { ECHO_ARGS, ECHO_TEXT } from "./everything-gateway.ts";

export interface RawSession {
  url: string;
  headers: Record<string, string>;
  sessionId: string | undefined;
  protocolVersion: string | undefined;
}

/** A caller of `tool` over `session`, with a keep-alive agent of its own; `close` frees its socket. */
export function rawCaller(session: RawSession, tool: string): { call(): Promise<void>; close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const expected = JSON.stringify(ECHO_TEXT);
  let id = 1_000_000;
  const headers = {
    ...session.headers,
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    ...(session.sessionId ? { "mcp-session-id": session.sessionId } : {}),
    ...(session.protocolVersion ? { "mcp-protocol-version": session.protocolVersion } : {}),
  };
  const call = () =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ jsonrpc: "2.0", id: id++, method: "tools/call", params: { name: tool, arguments: ECHO_ARGS } });
      const req = request(session.url, { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("error", reject);
        res.on("end", () => (res.statusCode === 200 && text.includes(expected) ? resolve() : reject(new Error(`${session.url}: ${res.statusCode} ${text.slice(0, 200)}`))));
      });
      req.on("error", reject);
      req.end(body);
    });
  return { call, close: () => agent.destroy() };
}
