/**
 * POST /v1/responses with `type: "mcp"` tools naming the gateway's own MCP servers: the gateway
 * lists their tools (an `mcp_list_tools` item per server), offers them to the model as function
 * tools, runs the calls the model makes (an `mcp_call` item each, with its arguments and its output
 * or error), hands the results back (`function_call_output`) and asks again, until the model answers
 * without calling them. Any upstream that serves the Responses API with function tools will do: the
 * model never needs to know MCP.
 *
 * Each round resends the client's input with every item the loop added, so no round depends on the
 * upstream having stored the last (`store: false` works). Later rounds go to the target that
 * answered the first. The client sees one response: the last round's, with the output of all
 * rounds (MCP calls shown as mcp items, the model's function_call items for them left out), the
 * tools it sent, and the usage of all rounds summed.
 *
 * Approvals: a call whose tool requires approval (OpenAI's default, unless `require_approval` says
 * "never") is not run; the response ends with an `mcp_approval_request` item. The client answers
 * with `mcp_approval_response` items and `previous_response_id`; the gateway remembers what it
 * owes that response (the approval requests, and the results of calls it ran in the same round) and
 * runs or declines each call before asking the model again. A round in which the model also calls
 * the client's own function tools ends the same way: the client runs those and continues with
 * `previous_response_id`, and the gateway adds the results of its own calls from that round.
 *
 * Streamed, the client gets one stream: the first round's response.created, the model's events
 * relayed as they come with their output_index renumbered into the response's one output list,
 * the mcp items' own events (response.mcp_list_tools.*, response.mcp_call_arguments.*,
 * response.mcp_call.*), SSE comments while tools run, and one response.completed at the end.
 */
import { randomBytes } from "node:crypto";
import { asChatUsage, formatEvent, readEvent, type Scrubber } from "@mcpgw/openai-protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Target } from "../config/types.ts";
import { DEFAULT_MAX_TOOL_ROUNDS } from "../config/defaults.ts";
import { GatewayError, badRequest, upstreamBadResponse } from "../errors.ts";
import type { CatalogTool, McpRegistry } from "../mcp/clients/types.ts";
import { countTokens, type Metrics } from "../observability/metrics.ts";
import { EventStream } from "../relay/event-stream.ts";
import { withinLifetime, type RequestLifetime } from "../request-lifetime.ts";
import { runCalls, type FinishedCall } from "../chat/tool-turns.ts";
import { errorFromException } from "../upstream/upstream-errors.ts";
import type { Forwarder } from "../upstream/forward.ts";
import type { PendingCall, PendingRound, ResponseDirectory } from "./directory.ts";
import { asResponsesFunctions, listToolsItem, type LocalMcpTools } from "./mcp-tools.ts";
import { addResponsesUsage, type ResponsesUsage } from "./responses-usage.ts";

type Item = Record<string, unknown> & { type?: unknown };
type ResponseObject = Record<string, unknown> & { id?: unknown; output?: unknown; usage?: unknown };

export interface McpLoopCall {
  model: string;
  targets: Target[];
  body: Record<string, unknown> & { input: unknown };
  local: LocalMcpTools;
  stream: boolean;
}

export interface ResponsesMcpLoop {
  run(request: FastifyRequest, reply: FastifyReply, call: McpLoopCall): Promise<FastifyReply>;
}

export interface McpLoopDeps {
  forwarder: Forwarder;
  registry: McpRegistry;
  directory: ResponseDirectory;
  metrics: Metrics;
  scrub: Scrubber;
  totalMs: number;
  resultLimitBytes: number;
  keepaliveMs: number;
}

/** Where a loop's items go: gathered for one JSON answer, or sent as events too. */
interface Sink {
  /** The response's output as the client sees it. */
  output: Item[];
  /** An item the gateway made (mcp_list_tools, mcp_approval_request, a finished mcp_call), whole. */
  item(item: Item): void;
  /** An mcp_call begins (streamed: its added, arguments and in_progress events); returns its index. */
  callStarted(item: Item): number;
  callFinished(index: number, item: Item): void;
  /** Streamed: keepalive comments while `work` (the tools) runs. */
  whileRunning?<T>(work: Promise<T>, tools: string[]): Promise<T>;
}

const newId = (prefix: string) => `${prefix}_${randomBytes(16).toString("hex")}`;

export function createResponsesMcpLoop(deps: McpLoopDeps): ResponsesMcpLoop {
  const { forwarder, registry, directory, metrics, scrub } = deps;

  /** One request's loop. */
  class Loop {
    readonly request: FastifyRequest;
    readonly call: McpLoopCall;
    readonly life: RequestLifetime;
    targets: Target[];
    /** Items the loop added after the client's input. */
    readonly added: Item[] = [];
    input: Item[];
    usage: ResponsesUsage | undefined;
    rounds = 0;
    mcpCalls = 0;
    /** The id the client sees: the first round's. */
    publicId: string | undefined;
    /** previous_response_id as the upstream knows it. */
    previous: unknown;
    readonly maxCalls: number;

    constructor(request: FastifyRequest, call: McpLoopCall, life: RequestLifetime) {
      this.request = request;
      this.call = call;
      this.life = life;
      this.targets = call.targets;
      this.input = asItems(call.body.input);
      const max = call.body.max_tool_calls;
      this.maxCalls = typeof max === "number" && max >= 0 ? max : Infinity;
      this.previous = call.body.previous_response_id;
    }

    /**
     * Before the first round: the mcp_list_tools items, and what a continuation owes the model (the
     * approvals answered, the results of the last round's own calls). Returns the items to show.
     */
    async begin(): Promise<Item[]> {
      const shown: Item[] = this.call.local.servers.map((s) => listToolsItem(s, newId("mcpl")));
      const prev = this.call.body.previous_response_id;
      const answers = this.input.filter((i) => i.type === "mcp_approval_response");
      const entry = typeof prev === "string" ? directory.find(prev, this.request.client!.name) : undefined;
      if (entry?.upstreamId) this.previous = entry.upstreamId;
      const pending = entry?.pending;
      if (answers.length > 0 && !pending) {
        throw badRequest("This request answers MCP approval requests, but previous_response_id does not name a response of this key that is waiting for approvals.", "previous_response_id");
      }
      if (!pending) return shown;
      const rest = this.input.filter((i) => i.type !== "mcp_approval_response");
      const owed: Item[] = [...pending.outputs];
      const approved: PendingCall[] = [];
      for (const a of pending.approvals) {
        const answer = answers.find((x) => x.approval_request_id === a.approvalId);
        if (!answer) {
          throw badRequest(`The MCP approval request '${a.approvalId}' of response '${String(prev)}' has no mcp_approval_response in input.`, "input");
        }
        // A declined call is not run and shows no mcp_call: the model reads that it was declined.
        if (answer.approve === true) approved.push(a);
        else owed.push({ type: "function_call_output", call_id: a.callId, output: "The user declined to run this tool." });
      }
      for (const x of answers) {
        if (!pending.approvals.some((a) => a.approvalId === x.approval_request_id)) {
          throw badRequest(`mcp_approval_response answers '${String(x.approval_request_id).slice(0, 64)}', which is not an approval request of response '${String(prev)}'.`, "input");
        }
      }
      // Answered once (and only once the answers are all good): a second continuation of the same
      // response must not run the calls again.
      directory.remember(prev as string, { ...entry!, pending: undefined });
      const ran = gather();
      owed.push(...(await this.runTools(approved.map((a) => ({ callId: a.callId, name: a.name, arguments: a.arguments, approvalId: a.approvalId })), ran)));
      this.input = [...owed, ...rest];
      return [...shown, ...ran.output];
    }

    /** The body of the next round for one target: the client's, with the loop's input and tools. */
    bodyFor(target: Target, stream: boolean): string {
      const { body, local } = this.call;
      const final = this.rounds >= DEFAULT_MAX_TOOL_ROUNDS || this.mcpCalls >= this.maxCalls;
      const tools = final ? local.rest : [...local.rest, ...asResponsesFunctions(local.offered)];
      const next: Record<string, unknown> = { ...body, model: target.model, input: [...this.input, ...this.added], tools, stream };
      if (this.previous !== undefined) next.previous_response_id = this.previous;
      // Forcing a tool (required, an mcp server, a function) holds for the first round only, or the
      // loop would never end; the model's last round (the limit reached) has no tools to force.
      const choice = body.tool_choice;
      if (final || tools.length === 0) delete next.tool_choice;
      else if (isMcpChoice(choice)) next.tool_choice = this.rounds === 0 ? "required" : "auto";
      else if (this.rounds > 0 && choice !== undefined && choice !== "auto" && choice !== "none") next.tool_choice = "auto";
      return JSON.stringify(next);
    }

    /** After a round: which of its function calls are the gateway's, and which the client's. */
    split(response: ResponseObject): { mcp: Item[]; client: Item[]; items: Item[] } {
      const items = Array.isArray(response.output) ? (response.output as Item[]) : [];
      const calls = items.filter((i) => i.type === "function_call" && typeof i.name === "string");
      return { mcp: calls.filter((c) => this.isOurCall(c)), client: calls.filter((c) => !this.isOurCall(c)), items };
    }

    /** Runs (or holds for approval) one round's MCP calls; true when the loop goes on. */
    async afterRound(response: ResponseObject, target: Target, sink: Sink): Promise<boolean> {
      this.rounds++;
      this.targets = [target];
      if (this.publicId === undefined && typeof response.id === "string") this.publicId = response.id;
      this.usage = addResponsesUsage(this.usage, response.usage);
      this.request.meter?.add(asChatUsage(response.usage), target);
      const { mcp, client, items } = this.split(response);
      if (mcp.length === 0) return false;
      this.added.push(...items);
      const approvals: PendingCall[] = [];
      const run: { callId: string; name: string; arguments: string }[] = [];
      for (const c of mcp) {
        const offered = this.call.local.offered.get(c.name as string)!;
        const args = typeof c.arguments === "string" ? c.arguments : "";
        const callId = String(c.call_id ?? c.id ?? newId("call"));
        if (offered.approval) {
          const approvalId = newId("mcpr");
          approvals.push({ approvalId, callId, name: c.name as string, label: offered.label, tool: offered.tool.tool, arguments: args });
          sink.item({ type: "mcp_approval_request", id: approvalId, server_label: offered.label, name: offered.tool.tool, arguments: args });
        } else run.push({ callId, name: c.name as string, arguments: args });
      }
      const outputs = await this.runTools(run, sink);
      this.mcpCalls += run.length;
      this.added.push(...outputs);
      if (approvals.length === 0 && client.length === 0) return true;
      // The client answers next (approvals, or its own calls): what the model is owed waits with the response.
      if (this.publicId) {
        const pending: PendingRound = { outputs, approvals };
        directory.remember(this.publicId, { client: this.request.client!.name, model: this.call.model, target, upstreamId: upstreamIdOf(response, this.publicId), pending });
      }
      return false;
    }

    /**
     * Runs calls concurrently (registry-side timeouts and cancellation, results reduced and scrubbed
     * as the chat loop does); each becomes an mcp_call item and the function_call_output the model reads.
     */
    async runTools(calls: { callId: string; name: string; arguments: string; approvalId?: string }[], sink: Sink): Promise<Item[]> {
      if (calls.length === 0) return [];
      const offered = new Map<string, CatalogTool>([...this.call.local.offered].map(([n, o]) => [n, o.tool]));
      const label = (name: string) => this.call.local.offered.get(name)?.label ?? "";
      const started = new Map<string, { id: string; index: number; approval: Record<string, string> }>();
      for (const c of calls) {
        const id = newId("mcp");
        // A call the client approved says which request it answered.
        const approval: Record<string, string> = c.approvalId ? { approval_request_id: c.approvalId } : {};
        const index = sink.callStarted({ type: "mcp_call", id, server_label: label(c.name), name: offered.get(c.name)?.tool ?? c.name, arguments: c.arguments, output: null, error: null, status: "in_progress", ...approval });
        started.set(c.callId, { id, index, approval });
      }
      const work = runCalls(
        calls.map((c) => ({ id: c.callId, type: "function" as const, function: { name: c.name, arguments: c.arguments } })),
        this.rounds,
        { registry, offered, limitBytes: deps.resultLimitBytes, scrub, signal: this.life.signal },
        (f) => {
          const s = started.get(f.run.id)!;
          const ok = f.run.outcome === "ok";
          const item: Item = { type: "mcp_call", id: s.id, server_label: label(f.run.name), name: f.run.tool, arguments: f.arguments, output: ok ? f.text : null, error: ok ? null : callError(f), status: ok ? "completed" : "failed", ...s.approval };
          sink.callFinished(s.index, item);
        },
      );
      const messages = await (sink.whileRunning ? sink.whileRunning(work, calls.map((c) => offered.get(c.name)?.tool ?? c.name)) : work);
      return messages.map((m) => ({ type: "function_call_output", call_id: m.tool_call_id, output: m.content }));
    }

    /** The loop, each round whole: the response the client gets. */
    async whole(sink: Sink): Promise<ResponseObject> {
      for (;;) {
        const sent = await forwarder.forward(this.ask(false));
        const response = parseResponse(sent.body!, sent.target.provider);
        for (const item of this.split(response).items) if (!this.isOurCall(item)) sink.item(item);
        if (!(await this.afterRound(response, sent.target, sink))) return this.finish(response, sent.target, sink.output);
      }
    }

    /** The loop as one client stream. */
    async streamed(reply: FastifyReply, shown: Item[]): Promise<void> {
      let out: EventStream | undefined;
      let events: ClientEvents | undefined;
      let sink: (Sink & { whileRunning: NonNullable<Sink["whileRunning"]> }) | undefined;
      try {
        for (;;) {
          const sent = await forwarder.forward(this.ask(true));
          const stream = sent.stream!;
          // Opened once the first round has started: a failure before it is still a plain error answer.
          if (!out) {
            out = EventStream.open(reply, "text/event-stream");
            events = new ClientEvents(out);
            sink = streamSink(events, deps.keepaliveMs);
          }
          const round = new RoundRelay(this, events!, sink!, this.rounds === 0 ? shown : undefined);
          round.flush(stream.first.events);
          await stream.events.pump((batch) => round.flush(batch.events), out);
          if (round.failed || out.closed) break;
          const response = round.terminal;
          if (!response) throw upstreamBadResponse(sent.target.provider, "the Responses stream ended without response.completed");
          if (!(await this.afterRound(response, sent.target, sink!))) {
            const final = this.finish(response, sent.target, sink!.output);
            events!.send({ type: round.terminalType ?? "response.completed", response: final });
            break;
          }
        }
      } catch (err) {
        if (!out) throw err;
        if (!out.closed) {
          const reason = this.life.signal.aborted ? this.life.signal.reason : err;
          const error = reason instanceof GatewayError ? reason : errorFromException(reason, this.targets[0]?.provider ?? "upstream");
          this.request.log.warn({ err: error.message, status: error.status }, "a Responses MCP loop failed after its stream began");
          out.fail(error);
        }
      }
      out?.end();
    }

    ask(stream: boolean) {
      return {
        targets: this.targets,
        model: this.call.model,
        method: "POST" as const,
        path: "/responses",
        bodyFor: (target: Target) => this.bodyFor(target, stream),
        stream,
        addsStreamUsage: false,
        requestId: String(this.request.id),
        signal: this.life.signal,
        deadline: this.life.deadline,
      };
    }

    /** A function_call of one of the gateway's tools: shown as an mcp item instead. */
    isOurCall(item: Item): boolean {
      return item.type === "function_call" && typeof item.name === "string" && this.call.local.offered.has(item.name);
    }

    /** The client's response: the last round's, with every round's output and usage, and the tools it sent. */
    finish(last: ResponseObject, target: Target, output: Item[]): ResponseObject {
      const client = this.request.client!.name;
      countTokens(metrics, client, this.call.model, asChatUsage(this.usage));
      const id = this.publicId ?? last.id;
      if (typeof id === "string" && !directory.find(id, client)?.pending) directory.remember(id, { client, model: this.call.model, target, upstreamId: upstreamIdOf(last, id) });
      return { ...last, id, output, usage: this.usage ?? last.usage ?? null, tools: this.call.body.tools, tool_choice: this.call.body.tool_choice ?? last.tool_choice ?? "auto" };
    }
  }

  /** One streamed round: the model's events renumbered into the client's output, its calls of the gateway's tools held back. */
  class RoundRelay {
    readonly loop: Loop;
    readonly events: ClientEvents;
    readonly sink: Sink;
    /** The first round's: its response.created is the client's, and the gateway's first items follow it. */
    readonly first: boolean;
    /** The gateway's first items (mcp_list_tools, a continuation's calls), sent after response.in_progress. */
    private shown: Item[];
    /** The upstream's output_index -> the client's; hidden ones map to -1. */
    readonly index = new Map<number, number>();
    terminal: ResponseObject | undefined;
    terminalType: string | undefined;
    /** The upstream's stream sent an error event (relayed): the response ends with it. */
    failed = false;

    constructor(loop: Loop, events: ClientEvents, sink: Sink, shown: Item[] | undefined) {
      this.loop = loop;
      this.events = events;
      this.sink = sink;
      this.first = shown !== undefined;
      this.shown = shown ?? [];
    }

    /** The events of one upstream read, parsed (comments and unreadable events dropped). */
    private parse(raw: string[]): Item[] {
      const parsed: Item[] = [];
      for (const r of raw) {
        const { data } = readEvent(r);
        if (data === undefined || data === "[DONE]") continue;
        try {
          const value = JSON.parse(data) as unknown;
          if (value && typeof value === "object") parsed.push(value as Item);
        } catch {
          // Not JSON: nothing a Responses client could read either.
        }
      }
      return parsed;
    }

    /** Sends what the client sees of one upstream read's events; false while the client is slow. */
    flush(raw: string[]): boolean {
      const events = this.events;
      const showNow = () => {
        for (const item of this.shown) this.sink.item(item);
        this.shown = [];
      };
      for (const e of this.parse(raw)) {
        const type = String(e.type ?? "");
        if (type === "response.created" || type === "response.in_progress" || type === "response.queued") {
          if (!this.first) continue;
          events.send({ ...e, response: { ...(e.response as object), tools: this.loop.call.body.tools } });
          if (type !== "response.created") showNow();
          continue;
        }
        showNow();
        if (type === "response.completed" || type === "response.incomplete" || type === "response.failed") {
          this.terminal = (e.response ?? {}) as ResponseObject;
          this.terminalType = type;
          continue;
        }
        if (type === "error" || (e as { error?: unknown }).error !== undefined) {
          this.failed = true;
          events.send(e);
          continue;
        }
        if (typeof e.output_index !== "number") {
          events.send(e);
          continue;
        }
        if (type === "response.output_item.added") {
          const hidden = this.loop.isOurCall((e.item ?? {}) as Item);
          this.index.set(e.output_index, hidden ? -1 : this.sink.output.push((e.item ?? {}) as Item) - 1);
        }
        const at = this.index.get(e.output_index);
        if (at === undefined || at < 0) continue;
        if (type === "response.output_item.done") this.sink.output[at] = (e.item ?? {}) as Item;
        events.send({ ...e, output_index: at });
      }
      showNow();
      return !events.slow;
    }
  }

  return {
    run(request, reply, call) {
      return withinLifetime(reply, deps.totalMs, async (life) => {
        const loop = new Loop(request, call, life);
        const output = await loop.begin();
        if (!call.stream) {
          const sink = gather();
          output.forEach((i) => sink.item(i));
          return reply.code(200).header("content-type", "application/json").send(JSON.stringify(await loop.whole(sink)));
        }
        await loop.streamed(reply, output);
        return reply;
      });
    },
  };
}

/** The client's events, numbered by the gateway (the rounds' own numbers would repeat). */
class ClientEvents {
  private seq = 0;
  slow = false;
  readonly out: EventStream;

  constructor(out: EventStream) {
    this.out = out;
  }

  send(event: Item): void {
    const e = { ...event, sequence_number: this.seq++ };
    this.slow = !this.out.write(formatEvent(JSON.stringify(e), typeof e.type === "string" ? e.type : undefined));
  }
}

function gather(): Sink {
  const output: Item[] = [];
  return {
    output,
    item: (item) => void output.push(item),
    callStarted: () => output.push({}) - 1,
    callFinished: (index, item) => void (output[index] = item),
  };
}

/** Streamed: each item the gateway makes is sent with the events the Responses API defines for it. */
function streamSink(events: ClientEvents, keepaliveMs: number): Sink & { whileRunning<T>(work: Promise<T>, tools: string[]): Promise<T> } {
  const output: Item[] = [];
  return {
    output,
    item(item) {
      const index = output.push(item) - 1;
      const id = item.id;
      events.send({ type: "response.output_item.added", output_index: index, item: item.type === "mcp_list_tools" ? { ...item, tools: [] } : item });
      if (item.type === "mcp_list_tools") {
        events.send({ type: "response.mcp_list_tools.in_progress", item_id: id, output_index: index });
        events.send({ type: item.error ? "response.mcp_list_tools.failed" : "response.mcp_list_tools.completed", item_id: id, output_index: index });
      }
      events.send({ type: "response.output_item.done", output_index: index, item });
    },
    callStarted(item) {
      const index = output.push(item) - 1;
      events.send({ type: "response.output_item.added", output_index: index, item: { ...item, arguments: "" } });
      events.send({ type: "response.mcp_call_arguments.delta", item_id: item.id, output_index: index, delta: item.arguments });
      events.send({ type: "response.mcp_call_arguments.done", item_id: item.id, output_index: index, arguments: item.arguments });
      events.send({ type: "response.mcp_call.in_progress", item_id: item.id, output_index: index });
      return index;
    },
    callFinished(index, item) {
      output[index] = item;
      events.send({ type: item.status === "completed" ? "response.mcp_call.completed" : "response.mcp_call.failed", item_id: item.id, output_index: index });
      events.send({ type: "response.output_item.done", output_index: index, item });
    },
    /** SSE comments while tools run, so no proxy's idle timeout cuts the stream. */
    async whileRunning(work, tools) {
      events.out.keepalive(`running ${tools.join(", ")}`);
      const timer = setInterval(() => events.out.keepalive(`still running ${tools.join(", ")}`), keepaliveMs);
      try {
        return await work;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

function parseResponse(body: Buffer, provider: string): ResponseObject {
  try {
    const value = JSON.parse(body.toString("utf8")) as unknown;
    if (value && typeof value === "object" && !Array.isArray(value)) return value as ResponseObject;
  } catch {
    // fall through
  }
  throw upstreamBadResponse(provider, "its response is not a JSON object");
}

/** The Responses API's `input`: a string is one user message. */
function asItems(input: unknown): Item[] {
  if (typeof input === "string") return [{ type: "message", role: "user", content: input }];
  return Array.isArray(input) ? (input as Item[]) : [];
}

/**
 * mcp_call.error in the Responses API's shape: the tool's own error result (isError) as
 * mcp_tool_execution_error with its content (reduced to text and scrubbed, as the model reads it);
 * a call that produced no result as mcp_protocol_error with the JSON-RPC code MCP would use.
 */
function callError(f: FinishedCall): Item {
  if (f.run.outcome === "tool_error") return { type: "mcp_tool_execution_error", content: [{ type: "text", text: f.text }] };
  return { type: "mcp_protocol_error", code: PROTOCOL_CODE[f.run.outcome] ?? -32603, message: f.text };
}

const PROTOCOL_CODE: Partial<Record<FinishedCall["run"]["outcome"], number>> = {
  invalid_arguments: -32602,
  unknown_tool: -32602,
  timeout: -32001,
  server_unavailable: -32000,
  cancelled: -32000,
  protocol_error: -32603,
};

function upstreamIdOf(response: ResponseObject, publicId: string): string | undefined {
  return typeof response.id === "string" && response.id !== publicId ? response.id : undefined;
}

function isMcpChoice(choice: unknown): boolean {
  return typeof choice === "object" && choice !== null && (choice as { type?: unknown }).type === "mcp";
}
