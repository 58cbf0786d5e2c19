/**
 * The tool loop (issue 16): one chat completion of a tool-enabled model whose upstream asks for one
 * tool call and then answers (the static upstream's `bench-tool`): the gateway asks the model, runs
 * server-everything's echo over its supervised stdio connection, and asks again. Five sides, taking
 * turns in rounds:
 *
 * - tooled: that chat through the gateway;
 * - by hand: what a client does without the gateway's loop: request 1 through the gateway with a
 *   model that has no tools (the client offers the tool itself), the tool called with an MCP SDK
 *   Client, request 2 with the result;
 * - the parts, each measured direct: the upstream's first answer, its second answer, and the tool
 *   call (an MCP SDK Client over stdio to a server-everything of its own);
 * - a plain chat through the gateway (the same model, no tools offered): what any request costs.
 *
 * The gateway's own time for the round is tooled minus the three parts (p50s); what the round adds
 * to a plain request is tooled minus the plain chat minus the second answer and the tool call.
 * The gateway sits on
 * the other core than the harness and the upstream, so its figure also holds the cross-core
 * wake-ups of its hops, which the direct parts do not pay (scenario 1 shows what they cost).
 */
import { Agent } from "node:http";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { BenchResults, StartContext } from "../types.ts";
import { callEcho, directClient, ECHO_TEXT, SERVER, startToolGateway, TOOL_CALLING_MODEL, TOOLED_MODEL } from "./everything-gateway.ts";
import { postJson as post, type JsonTarget } from "./post-json.ts";
import { round3, summaryOf, timedRounds, type RoundsShape, type TimedSide } from "./timed-rounds.ts";

type ToolLoopResults = NonNullable<BenchResults["toolLoop"]>;

const USER = { role: "user", content: "Echo the word bench with the tool, then answer." };
/** What the model is offered, as the gateway names server-everything's echo. */
const PUBLIC_NAME = `${SERVER}__echo`;

interface ChatAnswer {
  choices?: Array<{ message?: { content?: string | null; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }> } }>;
  mcpgw?: { tool_rounds?: number; tool_calls?: Array<{ outcome?: string }> };
}

export async function runToolLoop(ctx: StartContext, shape: RoundsShape & { log(line: string): void }): Promise<ToolLoopResults> {
  const gateway = await startToolGateway("mcpgw-tools", ctx);
  const agents = { gateway: new Agent({ keepAlive: true, maxSockets: 1 }), upstream: new Agent({ keepAlive: true, maxSockets: 1 }) };
  let mcp: Client | undefined;
  try {
    mcp = await directClient(ctx.cpu);
    const client = mcp;
    ctx.log(`tool loop: gateway pid ${gateway.pid}, server-everything ready behind it and beside it`);
    const { tools } = await client.listTools();
    const echo = tools.find((t) => t.name === "echo")!;
    const offered = [{ type: "function", function: { name: PUBLIC_NAME, description: echo.description, parameters: echo.inputSchema } }];
    const toGateway = { url: `${gateway.baseUrl}/chat/completions`, headers: gateway.headers, agent: agents.gateway };
    const toUpstream = { url: `${ctx.upstreamOrigin}/v1/chat/completions`, headers: { authorization: `Bearer ${ctx.upstreamKey}` }, agent: agents.upstream };

    const firstBody = JSON.stringify({ model: TOOL_CALLING_MODEL, messages: [USER], tools: offered });
    const secondBodyAfter = (call: NonNullable<ReturnType<typeof toolCallOf>>, result: string) =>
      JSON.stringify({
        model: TOOL_CALLING_MODEL,
        messages: [USER, { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: call.function }] }, { role: "tool", tool_call_id: call.id, content: result }],
        tools: offered,
      });
    const byHand = async () => {
      const call = toolCallOf(await postJson(toGateway, firstBody));
      if (call?.function.name !== PUBLIC_NAME) throw new Error(`by hand: the model asked for no ${PUBLIC_NAME}`);
      const result = await callEcho(client, "echo");
      return answerOf(await postJson(toGateway, secondBodyAfter(call, result)));
    };
    // The upstream's two requests as the loop sends them, built once from one exchange.
    const firstCall = toolCallOf(await postJson(toUpstream, firstBody));
    if (!firstCall) throw new Error(`the static upstream's ${TOOL_CALLING_MODEL} asked for no tool: is it the current one?`);
    const secondBody = secondBodyAfter(firstCall, ECHO_TEXT);
    const tooledBody = JSON.stringify({ model: TOOLED_MODEL, messages: [USER] });
    const plainBody = JSON.stringify({ model: TOOL_CALLING_MODEL, messages: [USER] });

    const sides: TimedSide[] = [
      {
        id: "tooled",
        call: async () => {
          const r = await postJson(toGateway, tooledBody);
          if (r.mcpgw?.tool_rounds !== 1 || r.mcpgw.tool_calls?.[0]?.outcome !== "ok") throw new Error(`tooled: not one good tool round: ${JSON.stringify(r.mcpgw)}`);
          return answerOf(r);
        },
      },
      { id: "byHand", call: byHand },
      { id: "upstreamFirst", call: async () => toolCallOf(await postJson(toUpstream, firstBody)) ?? fail("upstream: no tool call") },
      { id: "upstreamSecond", call: async () => answerOf(await postJson(toUpstream, secondBody)) },
      { id: "toolCall", call: () => callEcho(client, "echo") },
      { id: "plain", call: async () => answerOf(await postJson(toGateway, plainBody)) },
    ];
    const figures = await timedRounds(sides, { ...shape, label: "tool loop" });
    const s = (id: string) => summaryOf(figures, id)!;
    const [tooled, hand, up1, up2, tool, plain] = [s("tooled"), s("byHand"), s("upstreamFirst"), s("upstreamSecond"), s("toolCall"), s("plain")];
    return {
      rounds: shape.rounds,
      requestsPerRound: shape.callsPerRound,
      tooled,
      byHand: hand,
      upstreamFirst: up1,
      upstreamSecond: up2,
      toolCall: tool,
      plain,
      ownP50Ms: round3(tooled.p50Ms - up1.p50Ms - up2.p50Ms - tool.p50Ms),
      roundOverPlainP50Ms: round3(tooled.p50Ms - plain.p50Ms - up2.p50Ms - tool.p50Ms),
      vsByHandP50: round3(tooled.p50Ms / hand.p50Ms),
      vsByHandP99: round3(tooled.p99Ms / hand.p99Ms),
    };
  } finally {
    await mcp?.close();
    agents.gateway.destroy();
    agents.upstream.destroy();
    await gateway.stop();
  }
}

function toolCallOf(r: ChatAnswer) {
  return r.choices?.[0]?.message?.tool_calls?.[0];
}

function answerOf(r: ChatAnswer): string {
  const text = r.choices?.[0]?.message?.content;
  if (!text) throw new Error(`no answer: ${JSON.stringify(r).slice(0, 200)}`);
  return text;
}

const postJson = (to: JsonTarget, body: string) => post<ChatAnswer>(to, body);

function fail(message: string): never {
  throw new Error(message);
}
