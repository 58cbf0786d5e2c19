/**
 * MCP over HTTP (issue 16): a tools/call of server-everything's echo, by an MCP SDK Client over
 * Streamable HTTP, through our gateway's /mcp/{server} (the server re-served as it is) and /mcp (the
 * aggregate endpoint, `everything__echo`), through supergateway and mcp-proxy fronting the same
 * stdio server, and made directly to the backend (a stdio Client): all side by side in rounds, p50
 * and p99, and each over direct's. Each HTTP path is also timed with a bare HTTP client on the same
 * session (mcp-raw-call.ts), so the server side shows without the SDK client's own cost. Then what
 * idle sessions cost the gateway (mcp-sessions.ts).
 */
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { MCP_HTTP_PATHS, type BenchResults, type McpHttpPath, type StartContext } from "../types.ts";
import { callEcho, connectClient, directTransport, SERVER, startToolGateway } from "./everything-gateway.ts";
import { startPeer, type StartedPeer } from "./mcp-http-peers.ts";
import { rawCaller } from "./mcp-raw-call.ts";
import { idleSessions, type SessionsShape } from "./mcp-sessions.ts";
import { ratioOf, summaryOf, timedRounds, type RoundsShape, type TimedSide } from "./timed-rounds.ts";

type McpHttpResults = NonNullable<BenchResults["mcpHttp"]>;

export async function runMcpHttp(ctx: StartContext, shape: RoundsShape & Omit<SessionsShape, "log"> & { log(line: string): void }): Promise<McpHttpResults> {
  const unavailable: McpHttpResults["unavailable"] = {};
  const versions: McpHttpResults["versions"] = {};
  const peers: StartedPeer[] = [];
  const clients: Client[] = [];
  const raws: Array<{ close(): void }> = [];
  const gateway = await startToolGateway("mcpgw-mcp", ctx);
  try {
    const sides: TimedSide[] = [];
    /**
     * A side whose SDK client connects over the transport `open` gives and calls `tool`, and over HTTP
     * a raw side on the same session (`ID:raw`); one that cannot connect is reported, not fatal.
     */
    const side = async (id: McpHttpPath, tool: string, open: () => Promise<{ transport: Transport; url?: string; headers?: Record<string, string> }>) => {
      try {
        const { transport, url, headers } = await open();
        const client = await connectClient(transport, tool);
        clients.push(client);
        sides.push({ id, call: () => callEcho(client, tool) });
        if (url && transport instanceof StreamableHTTPClientTransport) {
          const raw = rawCaller({ url, headers: headers ?? {}, sessionId: transport.sessionId, protocolVersion: transport.protocolVersion }, tool);
          raws.push(raw);
          sides.push({ id: `${id}:raw`, call: raw.call });
        }
      } catch (err) {
        unavailable[id] = String((err as Error).message ?? err).split("\n").slice(0, 3).join(" ");
        ctx.log(`mcp over http: ${id}: unavailable (${unavailable[id]}); the report says so`);
      }
    };
    const http = (url: string, headers: Record<string, string> = {}) => ({ transport: new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }), url, headers });
    await side("direct", "echo", async () => ({ transport: directTransport(ctx.cpu) }));
    await side("mcpgw-server", "echo", async () => http(`${gateway.origin}/mcp/${SERVER}`, gateway.headers));
    await side("mcpgw-aggregate", `${SERVER}__echo`, async () => http(`${gateway.origin}/mcp`, gateway.headers));
    for (const id of ["supergateway", "mcp-proxy"] as const) {
      await side(id, "echo", async () => {
        const peer = await startPeer(id, ctx);
        peers.push(peer);
        versions[id] = peer.version;
        ctx.log(`mcp over http: ${id} ${peer.version} on ${peer.url} (pid ${peer.pid})`);
        return http(peer.url);
      });
    }
    if (!sides.some((s) => s.id === "direct")) throw new Error(`the direct stdio client could not connect: ${unavailable.direct}`);

    const figures = await timedRounds(sides, { ...shape, label: "mcp over http" });
    const floor = summaryOf(figures, "direct")!;
    const byPath: McpHttpResults["byPath"] = {};
    for (const { id } of MCP_HTTP_PATHS) {
      const s = summaryOf(figures, id);
      const raw = summaryOf(figures, `${id}:raw`);
      if (s) byPath[id] = { ...s, vsDirectP50: ratioOf(s.p50Ms, floor.p50Ms)!, vsDirectP99: ratioOf(s.p99Ms, floor.p99Ms)!, ...(raw ? { raw: { ...raw, vsDirectP50: ratioOf(raw.p50Ms, floor.p50Ms)! } } : {}) };
    }
    for (const r of raws.splice(0)) r.close();
    for (const c of clients.splice(0)) await c.close();
    for (const p of peers.splice(0)) await p.stop();

    const sessions = await idleSessions(gateway, { sessions: shape.sessions, proxied: shape.proxied, log: ctx.log });
    return { rounds: shape.rounds, callsPerRound: shape.callsPerRound, byPath, unavailable, versions, sessions };
  } finally {
    for (const r of raws) r.close();
    for (const c of clients) await c.close().catch(() => {});
    for (const p of peers) await p.stop();
    await gateway.stop();
  }
}
