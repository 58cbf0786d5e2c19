/**
 * REST tool calls (issue 16): `POST /tools/everything/echo` on our gateway (the mcpo layout: the
 * arguments as the JSON body, the tool's result as the answer) against the same call made directly
 * to the backend, an MCP SDK Client over stdio to a server-everything of its own, taking turns in
 * rounds. The REST client is plain node:http with a keep-alive agent, as in scenario 1.
 */
import { Agent } from "node:http";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { BenchResults, StartContext } from "../types.ts";
import { callEcho, directClient, ECHO_ARGS, ECHO_TEXT, SERVER, startToolGateway } from "./everything-gateway.ts";
import { postJson } from "./post-json.ts";
import { round3, summaryOf, timedRounds, type RoundsShape } from "./timed-rounds.ts";

export async function runRestTools(ctx: StartContext, shape: RoundsShape & { log(line: string): void }): Promise<NonNullable<BenchResults["restTools"]>> {
  const gateway = await startToolGateway("mcpgw-rest", ctx);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let direct: Client | undefined;
  try {
    direct = await directClient(ctx.cpu);
    const client = direct;
    const to = { url: `${gateway.origin}/tools/${SERVER}/echo`, headers: gateway.headers, agent };
    const body = JSON.stringify(ECHO_ARGS);
    ctx.log(`rest tools: gateway pid ${gateway.pid}, ${to.url}`);
    const figures = await timedRounds(
      [
        {
          id: "rest",
          call: async () => {
            const answer = await postJson<unknown>(to, body);
            if (answer !== ECHO_TEXT) throw new Error(`${to.url}: unexpected answer ${JSON.stringify(answer).slice(0, 200)}`);
          },
        },
        { id: "direct", call: () => callEcho(client, "echo") },
      ],
      { ...shape, label: "rest tools" },
    );
    const rest = summaryOf(figures, "rest")!;
    const floor = summaryOf(figures, "direct")!;
    return {
      rounds: shape.rounds,
      callsPerRound: shape.callsPerRound,
      rest,
      direct: floor,
      vsDirectP50: round3(rest.p50Ms / floor.p50Ms),
      vsDirectP99: round3(rest.p99Ms / floor.p99Ms),
    };
  } finally {
    await direct?.close();
    agent.destroy();
    await gateway.stop();
  }
}
