/**
 * The tool loop of a tool-enabled model, inside POST /v1/chat/completions: the model is offered the
 * MCP tools its selectors grant (beside the client's own tools); when it calls MCP tools the gateway
 * runs them (concurrently), adds the assistant turn and one `role: tool` message per call, and asks
 * again, until the model answers without MCP calls or maxToolRounds is reached (then it is asked
 * once more with no tools, and told why).
 *
 * A turn that calls client tools ends the loop: the client gets those calls as ordinary tool calls
 * (finish_reason tool_calls) and runs them itself; MCP calls of the same turn are run first (so
 * nothing the model asked for is dropped) and listed in `mcpgw.tool_calls`, but they are not part
 * of the history the client keeps. Non-streaming, the client gets one chat.completion; streaming,
 * one SSE stream for the whole loop (one id, one created, keepalive comments while tools run). Usage
 * is the sum over all rounds; `mcpgw` lists the tool calls made.
 */
import { addUsage, type Scrubber, type Usage } from "@mcpgw/openai-protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Target, ToolModelSettings } from "../config/types.ts";
import { GatewayError, badRequest, upstreamBadResponse } from "../errors.ts";
import type { CatalogTool, McpRegistry } from "../mcp/clients/types.ts";
import type { ModelRouter } from "../models/router.ts";
import { countTokens, type Metrics } from "../observability/metrics.ts";
import { EventStream } from "../relay/event-stream.ts";
import type { Forwarder } from "../upstream/forward.ts";
import { targetsFor } from "./completion.ts";
import { CLIENT_GONE, withinLifetime } from "../request-lifetime.ts";
import { toolCard, withoutToolCards } from "./tool-display.ts";
import { ownChunk, ToolRoundStream, type StreamIdentity } from "./tool-round-stream.ts";
import { asOpenAITools, assistantTurn, runCalls, splitCalls, toolCallsOf, type ChatMessage, type FinishedCall, type ToolCall, type ToolRun } from "./tool-turns.ts";

export interface ToolLoopCall {
  model: string;
  settings: ToolModelSettings;
  /** The client's body, validated: model, messages, and whatever else it sent. */
  body: Record<string, unknown> & { messages: ChatMessage[]; stream_options?: Record<string, unknown> | null };
  stream: boolean;
  clientWantsUsage: boolean;
}

export interface ToolLoop {
  run(request: FastifyRequest, reply: FastifyReply, call: ToolLoopCall): Promise<FastifyReply>;
}

export interface ToolLoopDeps {
  router: ModelRouter;
  forwarder: Forwarder;
  registry: McpRegistry;
  metrics: Metrics;
  scrub: Scrubber;
  totalMs: number;
  resultLimitBytes: number;
  keepaliveMs: number;
}

/** One request's loop: what every round shares. */
interface Loop {
  call: ToolLoopCall;
  targets: Target[];
  offered: Map<string, CatalogTool>;
  clientTools: Set<string>;
  tools: object[];
  conversation: ChatMessage[];
  runs: ToolRun[];
  usage: Usage | undefined;
  rounds: number;
  limitReached: boolean;
  request: FastifyRequest;
  signal: AbortSignal;
  deadline: number;
}

export function createToolLoop(deps: ToolLoopDeps): ToolLoop {
  const { router, forwarder, registry, metrics } = deps;

  const ask = (loop: Loop, stream: boolean) => {
    const last = loop.rounds >= loop.call.settings.maxToolRounds;
    if (last && !loop.limitReached) {
      loop.limitReached = true;
      loop.conversation.push({
        role: "system",
        content: `The limit of ${loop.call.settings.maxToolRounds} tool rounds for this answer is reached: answer now, without tools, with what you have, and say that the tool limit was reached.`,
      });
    }
    return forwarder.forward({
      targets: loop.targets,
      model: loop.call.model,
      method: "POST",
      path: "/chat/completions",
      bodyFor: (target, { streamUsage }) => {
        const body: Record<string, unknown> = { ...loop.call.body, model: target.model, messages: loop.conversation };
        if (last) {
          delete body.tools;
          delete body.tool_choice;
          delete body.parallel_tool_calls;
        } else if (loop.tools.length > 0) body.tools = loop.tools;
        // Usage is always asked for (where the provider takes it): the loop sums it over rounds.
        if (stream && streamUsage) body.stream_options = { ...loop.call.body.stream_options, include_usage: true };
        return JSON.stringify(body);
      },
      stream,
      addsStreamUsage: stream,
      requestId: String(loop.request.id),
      signal: loop.signal,
      deadline: loop.deadline,
    });
  };

  const run = (loop: Loop, calls: ToolCall[], onFinished: (f: FinishedCall) => void) =>
    runCalls(calls, loop.rounds, { registry, offered: loop.offered, limitBytes: deps.resultLimitBytes, scrub: deps.scrub, signal: loop.signal }, (f) => {
      loop.runs.push(f.run);
      onFinished(f);
    });

  const extension = (loop: Loop) => ({
    mcpgw: { tool_calls: loop.runs, tool_rounds: loop.rounds, ...(loop.limitReached ? { tool_round_limit_reached: true } : {}) },
  });

  async function whole(loop: Loop, reply: FastifyReply): Promise<FastifyReply> {
    const cards: string[] = [];
    for (;;) {
      const sent = await ask(loop, false);
      const completion = parseCompletion(sent.body!, sent.target.provider);
      loop.usage = addUsage(loop.usage, completion.usage ?? undefined);
      const choice = completion.choices?.[0];
      const { mcp: offeredCalls, client, unknown } = splitCalls(toolCallsOf(choice?.message), loop.offered, loop.clientTools);
      const mcp = [...offeredCalls, ...unknown];
      if (mcp.length > 0 && !loop.limitReached) {
        loop.rounds++;
        loop.conversation.push(assistantTurn(choice?.message?.content, mcp));
        const results = await run(loop, mcp, (f) => {
          if (loop.call.settings.toolDisplay === "details") cards.push(toolCard({ id: f.run.id, name: f.run.name, arguments: f.arguments, result: f.text, error: f.run.outcome !== "ok" }));
        });
        loop.conversation.push(...results);
        if (client.length === 0) continue;
      }
      const message = { ...(choice?.message ?? { role: "assistant" }), content: cards.join("") + (choice?.message?.content ?? "") || null };
      if (client.length > 0) message.tool_calls = client;
      else delete message.tool_calls;
      const finish_reason = client.length > 0 ? "tool_calls" : (choice?.finish_reason ?? "stop");
      return reply.code(200).send({ ...completion, choices: [{ ...choice, index: 0, message, finish_reason }], usage: loop.usage, ...extension(loop) });
    }
  }

  async function streamed(loop: Loop, reply: FastifyReply): Promise<FastifyReply> {
    let out: EventStream | undefined;
    let identity: StreamIdentity | undefined;
    try {
      for (;;) {
        const sent = await ask(loop, true);
        const stream = sent.stream!;
        const round = new ToolRoundStream({ offered: loop.offered, clientTools: loop.clientTools, identity, round: loop.rounds + 1 });
        const first = round.transform(stream.first.events);
        if (!out) out = EventStream.open(reply, "text/event-stream", first);
        else out.write(first);
        await stream.events.pump((batch) => out!.write(round.transform(batch.events)), out);
        identity = round.identity;
        loop.usage = addUsage(loop.usage, round.usage);
        if (round.failed || out.closed) break;
        const gathered = round.gathered();
        const { client } = gathered;
        const mcp = [...gathered.mcp, ...gathered.unknown];
        if (mcp.length > 0 && !loop.limitReached) {
          loop.rounds++;
          loop.conversation.push(assistantTurn(round.content || null, mcp));
          const results = await whileKeptAlive(out, mcp, () =>
            run(loop, mcp, (f) => {
              if (loop.call.settings.toolDisplay === "details" && identity) {
                out!.write(ownChunk(identity, { delta: { content: toolCard({ id: f.run.id, name: f.run.name, arguments: f.arguments, result: f.text, error: f.run.outcome !== "ok" }) } }));
              }
            }),
          );
          loop.conversation.push(...results);
          if (client.length === 0) continue;
        }
        finish(out, identity, loop, client.length > 0 ? "tool_calls" : (round.finishReason ?? "stop"));
        break;
      }
    } catch (err) {
      if (!out || err === CLIENT_GONE) throw err;
      // After the stream started: one error event, as for any stream that fails once begun.
      if (!(err instanceof GatewayError)) loop.request.log.error({ err }, "the tool loop failed");
      if (!out.closed) out.fail(err instanceof GatewayError ? err : new GatewayError(500, "The gateway hit an internal error.", { code: "internal_error" }));
    }
    out?.end();
    return reply;
  }

  /** The last chunks: the finish, the summed usage when the client asked for it, mcpgw's list, [DONE]. */
  function finish(out: EventStream, identity: StreamIdentity | undefined, loop: Loop, finishReason: string): void {
    if (!identity) return;
    const asked = loop.call.clientWantsUsage;
    out.write(ownChunk(identity, { delta: {}, finish_reason: finishReason, ...(asked ? {} : { extra: extension(loop) }) }));
    if (asked) out.write(ownChunk(identity, { usage: loop.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, extra: extension(loop) }));
    out.write("data: [DONE]\n\n");
  }

  /** Runs `work`, writing an SSE comment every keepaliveMs so that no proxy's idle timeout cuts the stream while tools run. */
  async function whileKeptAlive<T>(out: EventStream, calls: ToolCall[], work: () => Promise<T>): Promise<T> {
    const names = calls.map((c) => c.function.name).join(", ");
    out.keepalive(`running ${names}`);
    const timer = setInterval(() => out.keepalive(`still running ${names}`), deps.keepaliveMs);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  return {
    async run(request, reply, call) {
      const client = request.client!;
      const targets = targetsFor(request, router, call.model);
      const catalog = registry.tools(call.settings.selectors);
      const offered = new Map(catalog.map((t) => [t.name, t]));
      const clientTools = Array.isArray(call.body.tools) ? (call.body.tools as { function?: { name?: string } }[]) : [];
      for (const t of clientTools) {
        const name = t?.function?.name;
        if (name && offered.has(name)) throw badRequest(`The tool name '${name}' is an MCP tool this model offers already: give your tool another name.`, "tools", "tool_name_conflict");
      }
      const messages = withoutToolCards(call.body.messages);
      return withinLifetime(reply, deps.totalMs, async (life) => {
        const loop: Loop = {
          call,
          targets,
          offered,
          clientTools: new Set(clientTools.map((t) => t?.function?.name).filter((n): n is string => typeof n === "string")),
          tools: [...clientTools, ...asOpenAITools(catalog)],
          conversation: call.settings.instructions ? [{ role: "system", content: call.settings.instructions }, ...messages] : [...messages],
          runs: [],
          usage: undefined,
          rounds: 0,
          limitReached: false,
          request,
          signal: life.signal,
          deadline: life.deadline,
        };
        const answered = call.stream ? await streamed(loop, reply) : await whole(loop, reply);
        request.modelAccepted = true;
        countTokens(metrics, client.name, call.model, loop.usage);
        metrics.toolRounds.observe({ model: metrics.modelLabel(call.model) }, loop.rounds);
        return answered;
      });
    },
  };
}

interface Completion {
  choices?: Array<{ index?: number; message?: { role?: string; content?: unknown; tool_calls?: unknown; [k: string]: unknown }; finish_reason?: string }>;
  usage?: Usage | null;
  [k: string]: unknown;
}

function parseCompletion(body: Buffer, provider: string): Completion {
  try {
    const value = JSON.parse(body.toString("utf8")) as Completion;
    if (value && typeof value === "object") return value;
  } catch {
    // below
  }
  throw upstreamBadResponse(provider, "its chat completion is not JSON");
}
