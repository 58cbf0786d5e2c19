/**
 * What an idle MCP session costs the gateway: N sessions opened on /mcp (the aggregate endpoint),
 * each by an MCP SDK Client as a real client opens one (initialize, initialized, and the GET stream
 * it then holds open), left idle, and the gateway's resident memory read before and after.
 *
 * A /mcp/{server} session of a stdio server is another thing: it holds a child process of its own
 * (at most 20 per server). A few are opened too, and both the gateway's own growth and its whole
 * process tree's (the children included) are given per session.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { median } from "../load/requests.ts";
import { rssOfTreeMb } from "../processes.ts";
import type { BenchResults } from "../types.ts";
import { rssKb, SERVER, type ToolGateway } from "./everything-gateway.ts";
import { round3 } from "./timed-rounds.ts";

const BATCH = 20;
const SETTLE_MS = 1000;

interface Session {
  client: Client;
  transport: StreamableHTTPClientTransport;
}

export interface SessionsShape {
  /** Idle sessions on /mcp. */
  sessions: number;
  /** Sessions on /mcp/{server}, each a child process. */
  proxied: number;
  log(line: string): void;
}

export async function idleSessions(gateway: ToolGateway, shape: SessionsShape): Promise<NonNullable<BenchResults["mcpHttp"]>["sessions"]> {
  const open = async (path: string): Promise<Session> => {
    const transport = new StreamableHTTPClientTransport(new URL(`${gateway.origin}${path}`), { requestInit: { headers: gateway.headers } });
    const client = new Client({ name: "mcpgw-bench-idle", version: "0.0.0" });
    await client.connect(transport);
    return { client, transport };
  };
  const close = async (s: Session) => {
    await s.transport.terminateSession().catch(() => {});
    await s.client.close();
  };
  const held: Session[] = [];
  try {
    // Warm: the endpoint and the SDK are loaded, and sessions have come and gone once.
    for (let i = 0; i < BATCH; i++) await close(await open("/mcp"));
    const idleKb = await settledRssKb(gateway.pid);
    for (let i = 0; i < shape.sessions; i += BATCH) {
      held.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, shape.sessions - i) }, () => open("/mcp")))));
    }
    const loadedKb = await settledRssKb(gateway.pid);
    const perSessionKb = round3((loadedKb - idleKb) / held.length);
    shape.log(`mcp sessions: ${held.length} idle on /mcp: gateway RSS ${(idleKb / 1024).toFixed(1)} -> ${(loadedKb / 1024).toFixed(1)} MB, ${perSessionKb.toFixed(1)} KB per session`);
    await Promise.all(held.splice(0).map(close));

    const proxiedFigures = shape.proxied > 0 ? await proxiedSessions(gateway, shape, open, close, held) : undefined;
    return {
      opened: shape.sessions,
      idleRssMb: round3(idleKb / 1024),
      loadedRssMb: round3(loadedKb / 1024),
      perSessionKb,
      ...(proxiedFigures ? { perServer: proxiedFigures } : {}),
    };
  } finally {
    await Promise.all(held.splice(0).map((s) => close(s).catch(() => {})));
  }
}

async function proxiedSessions(
  gateway: ToolGateway,
  shape: SessionsShape,
  open: (path: string) => Promise<Session>,
  close: (s: Session) => Promise<void>,
  held: Session[],
): Promise<NonNullable<NonNullable<BenchResults["mcpHttp"]>["sessions"]["perServer"]>> {
  const path = `/mcp/${SERVER}`;
  await close(await open(path));
  await sleep(SETTLE_MS);
  const idleKb = await settledRssKb(gateway.pid);
  const idleTreeMb = rssOfTreeMb(gateway.pid);
  // One at a time: each starts a server process on the gateway's core.
  for (let i = 0; i < shape.proxied; i++) held.push(await open(path));
  const loadedKb = await settledRssKb(gateway.pid);
  const loadedTreeMb = rssOfTreeMb(gateway.pid);
  const figures = {
    opened: held.length,
    gatewayPerSessionKb: round3((loadedKb - idleKb) / held.length),
    treePerSessionKb: round3(((loadedTreeMb - idleTreeMb) * 1024) / held.length),
  };
  shape.log(`mcp sessions: ${held.length} on ${path}: ${figures.gatewayPerSessionKb.toFixed(1)} KB per session in the gateway, ${(figures.treePerSessionKb / 1024).toFixed(1)} MB with its server process`);
  await Promise.all(held.splice(0).map(close));
  return figures;
}

/** The median of three reads, after a pause: what stays, not a transient peak. */
async function settledRssKb(pid: number): Promise<number> {
  await sleep(SETTLE_MS);
  const reads: number[] = [];
  for (let i = 0; i < 3; i++, await sleep(200)) reads.push(rssKb(pid));
  return median(reads);
}
