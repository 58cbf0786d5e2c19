/**
 * One round of a streamed tool loop, chunk by chunk: the model's text goes to the client as it
 * arrives; its calls of MCP tools are gathered, never shown (the client could not run them); its
 * calls of the client's own tools go to the client, renumbered so that they read as one turn's
 * calls. Every chunk carries the first round's id and `created`, so the client sees one completion
 * however many rounds it took. Usage is taken out (the loop sends the sum once, at the end) and so
 * is the finish: the loop decides whether this round was the last.
 */
import { readEvent, type Usage } from "@mcpgw/openai-protocol";
import type { CatalogTool } from "../mcp/clients/types.ts";
import type { ToolCall } from "./tool-turns.ts";

/** id, created and model of the completion the client sees. */
export interface StreamIdentity {
  id: string;
  created: number;
  model: string;
}

interface CallDelta {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

interface Gathered {
  id: string;
  name: string;
  arguments: string;
  /** mcp and unknown calls are the gateway's to answer; client calls go to the client. */
  kind: "mcp" | "client" | "unknown" | undefined;
  /** The client's number for it, when it is a client call. */
  clientIndex: number;
  /** Deltas that came before its name told which kind it is. */
  pending: CallDelta[];
}

interface Chunk {
  id?: string;
  created?: number;
  model?: string;
  object?: string;
  choices?: Array<{ index?: number; delta?: { role?: string; content?: string | null; tool_calls?: CallDelta[]; [k: string]: unknown }; finish_reason?: string | null; [k: string]: unknown }>;
  usage?: Usage | null;
  error?: unknown;
  [k: string]: unknown;
}

export class ToolRoundStream {
  identity: StreamIdentity | undefined;
  content = "";
  usage: Usage | undefined;
  finishReason: string | undefined;
  /** The stream's own error event: the round (and the loop) end with it. */
  failed = false;
  private readonly offered: Map<string, CatalogTool>;
  private readonly clientTools: Set<string>;
  private readonly firstRound: boolean;
  private readonly round: number;
  private readonly calls = new Map<number, Gathered>();
  private clientCalls: number;

  /** `clientCallsSoFar`: the client calls earlier rounds already showed (none: a turn with client calls ends the loop). */
  constructor(opts: { offered: Map<string, CatalogTool>; clientTools: Set<string>; identity: StreamIdentity | undefined; round: number; clientCallsSoFar?: number }) {
    this.offered = opts.offered;
    this.clientTools = opts.clientTools;
    this.identity = opts.identity;
    this.firstRound = opts.identity === undefined;
    this.round = opts.round;
    this.clientCalls = opts.clientCallsSoFar ?? 0;
  }

  /** What the client gets for these upstream events. */
  transform(events: string[]): string {
    let out = "";
    for (const raw of events) out += this.event(raw);
    return out;
  }

  /** The calls of this round, by kind, complete. */
  gathered(): { mcp: ToolCall[]; client: ToolCall[]; unknown: ToolCall[] } {
    const all = [...this.calls.entries()].sort((a, b) => a[0] - b[0]).map(([, g]) => g);
    const as = (g: Gathered): ToolCall => ({ id: g.id, type: "function", function: { name: g.name, arguments: g.arguments } });
    const of = (kind: Gathered["kind"]) => all.filter((g) => g.kind === kind).map(as);
    return { mcp: of("mcp"), client: of("client"), unknown: of("unknown") };
  }

  private event(raw: string): string {
    const { data } = readEvent(raw);
    if (data === undefined) return raw; // a comment: keepalives pass
    if (data === "[DONE]") return "";
    let chunk: Chunk;
    try {
      chunk = JSON.parse(data) as Chunk;
    } catch {
      return raw;
    }
    if (chunk.error) {
      this.failed = true;
      return raw; // already the gateway's own, scrubbed error event
    }
    if (chunk.usage) this.usage = chunk.usage;
    delete chunk.usage;
    this.identity ??= { id: String(chunk.id ?? `chatcmpl-gw-${Date.now()}`), created: Number(chunk.created ?? Math.floor(Date.now() / 1000)), model: String(chunk.model ?? "") };
    const choice = chunk.choices?.[0];
    if (!choice) return "";
    const delta = choice.delta ?? {};
    if (!this.firstRound) delete delta.role;
    if (typeof delta.content === "string") this.content += delta.content;
    if (Array.isArray(delta.tool_calls)) {
      const shown = delta.tool_calls.flatMap((d) => this.callDelta(d));
      if (shown.length > 0) delta.tool_calls = shown;
      else delete delta.tool_calls;
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    const keep = (typeof delta.content === "string" && delta.content !== "") || delta.role !== undefined || delta.tool_calls !== undefined || delta.refusal;
    if (!keep) return "";
    const out: Chunk = { ...chunk, id: this.identity.id, created: this.identity.created, choices: [{ ...choice, delta, finish_reason: null }] };
    return `data: ${JSON.stringify(out)}\n\n`;
  }

  /** The deltas of one call the client should see (none for an MCP call, or before its kind is known). */
  private callDelta(d: CallDelta): CallDelta[] {
    let g = this.calls.get(d.index);
    if (!g) {
      g = { id: "", name: "", arguments: "", kind: undefined, clientIndex: -1, pending: [] };
      this.calls.set(d.index, g);
    }
    if (d.id) g.id = d.id;
    if (d.function?.name) g.name += d.function.name;
    if (d.function?.arguments) g.arguments += d.function.arguments;
    if (!g.id) g.id = `call_gw_${this.round}_${d.index + 1}`;
    // Providers send a call's name whole, in its first delta: that decides whose call it is.
    if (g.kind === undefined && g.name !== "") {
      g.kind = this.offered.has(g.name) ? "mcp" : this.clientTools.has(g.name) ? "client" : "unknown";
      if (g.kind === "client") g.clientIndex = this.clientCalls++;
      const held = g.pending;
      g.pending = [];
      if (g.kind !== "client") return [];
      return [...held, d].map((x) => ({ ...x, index: g!.clientIndex }));
    }
    if (g.kind === undefined) {
      g.pending.push(d);
      return [];
    }
    return g.kind === "client" ? [{ ...d, index: g.clientIndex }] : [];
  }
}

/** A chunk of the completion the client sees, made by the gateway (cards, the last finish, the usage). */
export function ownChunk(identity: StreamIdentity, fields: { delta?: object; finish_reason?: string; usage?: Usage; extra?: object }): string {
  const choices = fields.delta !== undefined || fields.finish_reason !== undefined ? [{ index: 0, delta: fields.delta ?? {}, logprobs: null, finish_reason: fields.finish_reason ?? null }] : [];
  const chunk = { id: identity.id, object: "chat.completion.chunk", created: identity.created, model: identity.model, choices, ...(fields.usage ? { usage: fields.usage } : {}), ...fields.extra };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}
