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
 *
 * The same loop answers a chat session's message (POST /chat, converse): it returns the turns to
 * keep and the final text instead of sending an OpenAI answer, and a streamed /chat writes through
 * an output of its own (which reads the same chunks) and hears of each tool call as it starts and ends.
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
import { CLIENT_GONE, requestLifetime, withinLifetime, type RequestLifetime } from "../request-lifetime.ts";
import { toolCard, withoutToolCards } from "./tool-display.ts";
import { ownChunk, ToolRoundStream, type StreamIdentity } from "./tool-round-stream.ts";
import { asOpenAITools, assistantTurn, runCalls, splitCalls, toolCallsOf, type ChatMessage, type FinishedCall, type ToolCall, type ToolRun } from "./tool-turns.ts";

export type { ChatMessage, ToolRun } from "./tool-turns.ts";

export interface ToolLoopCall {
  model: string;
  settings: ToolModelSettings;
  /** The client's body, validated: model, messages, and whatever else it sent. */
  body: Record<string, unknown> & { messages: ChatMessage[]; stream_options?: Record<string, unknown> | null };
  stream: boolean;
  clientWantsUsage: boolean;
}

export interface ToolLoop {
  /** POST /v1/chat/completions for a tool-enabled model: the OpenAI answer, whole or streamed. */
  run(request: FastifyRequest, reply: FastifyReply, call: ToolLoopCall): Promise<FastifyReply>;
  /** One answer of a chat session; `output`, for a streamed one, opens the client's stream at the first event. */
  converse(request: FastifyRequest, reply: FastifyReply, call: ToolLoopCall, output?: ConverseOutput): Promise<Conversed>;
}

/** Where a streamed loop writes the client's chunks. EventStream is one; /chat has a translating one. */
export interface LoopOutput {
  write(data: string | Buffer): boolean;
  keepalive(text: string): void;
  fail(error: GatewayError): void;
  end(): void;
  readonly closed: boolean;
  watch(drained: () => void, gone: () => void): () => void;
}

/** A tool call as a chat client is shown it. */
export interface ToolCallShown {
  id: string;
  name: string;
  server: string;
  tool: string;
}

export interface ConverseOutput {
  /** Called with the first events, once the first upstream round has started to stream. */
  open(first: string | Buffer): LoopOutput;
  toolsStarted(calls: ToolCallShown[]): void;
  toolFinished(run: ToolRun): void;
}

export interface Conversed {
  /** The final answer's text. */
  content: string;
  /** What this answer added to the conversation: assistant turns with their tool calls, tool results, the final answer. */
  turns: ChatMessage[];
  runs: ToolRun[];
  usage: Usage | undefined;
  rounds: number;
  /** A streamed answer that failed after its stream began (the client got an error event). */
  failed: boolean;
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
  /** The note that told the model the limit was reached: the gateway's, not part of any history. */
  limitNote: ChatMessage | undefined;
  /** The last round's text, streamed. */
  finalContent: string;
  failed: boolean;
  request: FastifyRequest;
  signal: AbortSignal;
  deadline: number;
  output: ConverseOutput | undefined;
}

export function createToolLoop(deps: ToolLoopDeps): ToolLoop {
  const { router, forwarder, registry, metrics } = deps;

  const ask = (loop: Loop, stream: boolean) => {
    const last = loop.rounds >= loop.call.settings.maxToolRounds;
    if (last && !loop.limitReached) {
      loop.limitReached = true;
      loop.limitNote = {
        role: "system",
        content: `The limit of ${loop.call.settings.maxToolRounds} tool rounds for this answer is reached: answer now, without tools, with what you have, and say that the tool limit was reached.`,
      };
      loop.conversation.push(loop.limitNote);
    }
    return forwarder.forward({
      targets: loop.targets,
      model: loop.call.model,
      method: "POST",
      path: "/chat/completions",
      bodyFor: (target, { streamUsage }) => {
        // `stream` is the loop's choice: a /chat body carries none of its own.
        const body: Record<string, unknown> = { ...loop.call.body, model: target.model, messages: loop.conversation, stream };
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

  const run = (loop: Loop, calls: ToolCall[], onFinished: (f: FinishedCall) => void) => {
    loop.output?.toolsStarted(
      calls.map((c) => {
        const tool = loop.offered.get(c.function.name);
        return { id: c.id, name: c.function.name, server: tool?.server ?? "", tool: tool?.tool ?? c.function.name };
      }),
    );
    return runCalls(calls, loop.rounds, { registry, offered: loop.offered, limitBytes: deps.resultLimitBytes, scrub: deps.scrub, signal: loop.signal }, (f) => {
      loop.runs.push(f.run);
      loop.output?.toolFinished(f.run);
      onFinished(f);
    });
  };

  const extension = (loop: Loop) => ({
    mcpgw: { tool_calls: loop.runs, tool_rounds: loop.rounds, ...(loop.limitReached ? { tool_round_limit_reached: true } : {}) },
  });

  /** The loop, not streamed: the final chat.completion the client gets. */
  async function whole(loop: Loop): Promise<Completion> {
    const cards: string[] = [];
    for (;;) {
      const sent = await ask(loop, false);
      const completion = parseCompletion(sent.body!, sent.target.provider);
      loop.usage = addUsage(loop.usage, completion.usage ?? undefined);
      loop.request.meter?.add(completion.usage ?? undefined, sent.target);
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
      return { ...completion, choices: [{ ...choice, index: 0, message, finish_reason }], usage: loop.usage, ...extension(loop) };
    }
  }

  /** The loop, streamed: `open` makes the client's stream once the first round has started. */
  async function streamed(loop: Loop, open: (first: string | Buffer) => LoopOutput): Promise<void> {
    let out: LoopOutput | undefined;
    let identity: StreamIdentity | undefined;
    try {
      for (;;) {
        const sent = await ask(loop, true);
        const stream = sent.stream!;
        const round = new ToolRoundStream({ offered: loop.offered, clientTools: loop.clientTools, identity, round: loop.rounds + 1 });
        const first = round.transform(stream.first.events);
        if (!out) out = open(first);
        else out.write(first);
        await stream.events.pump((batch) => out!.write(round.transform(batch.events)), out);
        identity = round.identity;
        loop.usage = addUsage(loop.usage, round.usage);
        loop.request.meter?.add(round.usage, sent.target);
        loop.finalContent = round.content;
        if (round.failed || out.closed) {
          loop.failed = true;
          break;
        }
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
      loop.failed = true;
      if (!out.closed) out.fail(err instanceof GatewayError ? err : new GatewayError(500, "The gateway hit an internal error.", { code: "internal_error" }));
    }
    out?.end();
  }

  /** The last chunks: the finish, the summed usage when the client asked for it, mcpgw's list, [DONE]. */
  function finish(out: LoopOutput, identity: StreamIdentity | undefined, loop: Loop, finishReason: string): void {
    if (!identity) return;
    const asked = loop.call.clientWantsUsage;
    out.write(ownChunk(identity, { delta: {}, finish_reason: finishReason, ...(asked ? {} : { extra: extension(loop) }) }));
    if (asked) out.write(ownChunk(identity, { usage: loop.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }, extra: extension(loop) }));
    out.write("data: [DONE]\n\n");
  }

  /** Runs `work`, writing an SSE comment every keepaliveMs so that no proxy's idle timeout cuts the stream while tools run. */
  async function whileKeptAlive<T>(out: LoopOutput, calls: ToolCall[], work: () => Promise<T>): Promise<T> {
    const names = calls.map((c) => c.function.name).join(", ");
    out.keepalive(`running ${names}`);
    const timer = setInterval(() => out.keepalive(`still running ${names}`), deps.keepaliveMs);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /** The loop's state for one request, within its lifetime. */
  function prepare(request: FastifyRequest, call: ToolLoopCall, life: RequestLifetime, output: ConverseOutput | undefined): Loop {
    const targets = targetsFor(request, router, call.model);
    const catalog = registry.tools(call.settings.selectors);
    const offered = new Map(catalog.map((t) => [t.name, t]));
    const clientTools = Array.isArray(call.body.tools) ? (call.body.tools as { function?: { name?: string } }[]) : [];
    for (const t of clientTools) {
      const name = t?.function?.name;
      if (name && offered.has(name)) throw badRequest(`The tool name '${name}' is an MCP tool this model offers already: give your tool another name.`, "tools", "tool_name_conflict");
    }
    const messages = withoutToolCards(call.body.messages);
    return {
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
      limitNote: undefined,
      finalContent: "",
      failed: false,
      request,
      signal: life.signal,
      deadline: life.deadline,
      output,
    };
  }

  /** What every answered loop counts. */
  function counted(loop: Loop): void {
    loop.request.modelAccepted = true;
    countTokens(metrics, loop.request.client!.name, loop.call.model, loop.usage);
    metrics.toolRounds.observe({ model: metrics.modelLabel(loop.call.model) }, loop.rounds);
  }

  return {
    run(request, reply, call) {
      return withinLifetime(reply, deps.totalMs, async (life) => {
        const loop = prepare(request, call, life, undefined);
        if (call.stream) await streamed(loop, (first) => EventStream.open(reply, "text/event-stream", first));
        else reply.code(200).send(await whole(loop));
        counted(loop);
        return reply;
      });
    },

    async converse(request, reply, call, output) {
      // Not withinLifetime: its work returns the reply, and awaiting a reply waits until it is sent,
      // which /chat does only after this returns.
      const life = requestLifetime(reply, deps.totalMs);
      try {
        const loop = prepare(request, call, life, output);
        const start = loop.conversation.length;
        let content: string;
        if (call.stream && output) {
          await streamed(loop, (first) => output.open(first));
          content = loop.finalContent;
        } else {
          const message = (await whole(loop)).choices?.[0]?.message;
          content = typeof message?.content === "string" ? message.content : "";
        }
        counted(loop);
        const turns = loop.conversation.slice(start).filter((m) => m !== loop.limitNote);
        return { content, turns: [...turns, { role: "assistant", content }], runs: loop.runs, usage: loop.usage, rounds: loop.rounds, failed: loop.failed };
      } catch (err) {
        if (err === CLIENT_GONE) reply.hijack(); // nobody is listening; nothing to send
        throw err;
      } finally {
        life.end();
      }
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
