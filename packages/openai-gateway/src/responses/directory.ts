/**
 * Which upstream holds each stored response the gateway relayed, and which client key made it.
 *
 * The Responses API keeps state upstream: GET/DELETE /v1/responses/{id}, its cancel and input_items,
 * and `previous_response_id` must reach the provider (and, behind an alias with fallback, the
 * target) that created the response, and no other key than its creator's may read it: every key
 * shares the gateway's upstream credentials, so the upstream cannot tell them apart.
 *
 * Kept in this process's memory, for OpenAI's own retention (30 days) and at most MAX_ENTRIES
 * responses (the oldest go first). Behind a load balancer, a replica that did not relay a response
 * does not know it and answers 404: route a client's requests to one replica (sticky sessions), as
 * docs/responses-api.md says.
 */
import type { Target } from "../config/types.ts";

export interface StoredResponse {
  /** The client key that created it. */
  client: string;
  /** The public model name it was asked for (its access is checked again on each use). */
  model: string;
  target: Target;
  /**
   * The id the upstream knows this response's latest state by, when it is not the client's id: an
   * MCP loop's response keeps its first round's id (a stream's response.created comes before the
   * last round exists), while its history is the last round's.
   */
  upstreamId?: string | undefined;
  /** What the model is owed before this response can be continued (previous_response_id): see mcp-loop.ts. */
  pending?: PendingRound | undefined;
}

/** A round of the MCP loop that stopped for the client: approvals to answer, or the client's own calls. */
export interface PendingRound {
  /** The function_call_output items of the calls the gateway ran in that round. */
  outputs: Record<string, unknown>[];
  approvals: PendingCall[];
}

export interface PendingCall {
  approvalId: string;
  /** The model's call_id. */
  callId: string;
  /** The function name the model called (the gateway's name of the tool). */
  name: string;
  label: string;
  /** The server's own name of the tool. */
  tool: string;
  arguments: string;
}

export interface ResponseDirectory {
  remember(id: string, entry: StoredResponse): void;
  /** The entry, when this key created the response; undefined for another key's, as for an unknown id. */
  find(id: string, client: string): StoredResponse | undefined;
  /** Some key's response: a continuation of it by another key is refused, not sent upstream. */
  known(id: string): boolean;
  forget(id: string): void;
}

const TTL_MS = 30 * 24 * 3600_000;
const MAX_ENTRIES = 100_000;

export function createResponseDirectory(opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}): ResponseDirectory {
  const ttl = opts.ttlMs ?? TTL_MS;
  const max = opts.maxEntries ?? MAX_ENTRIES;
  const now = opts.now ?? Date.now;
  // Insertion order is age order: the first entry is the oldest, so trimming and expiry look only there.
  const entries = new Map<string, StoredResponse & { expires: number }>();
  return {
    remember(id, entry) {
      entries.delete(id);
      entries.set(id, { ...entry, expires: now() + ttl });
      const t = now();
      for (const [oldest, e] of entries) {
        if (entries.size <= max && e.expires > t) break;
        entries.delete(oldest);
      }
    },
    find(id, client) {
      const e = entries.get(id);
      if (!e) return undefined;
      if (e.expires <= now()) {
        entries.delete(id);
        return undefined;
      }
      return e.client === client ? e : undefined;
    },
    known: (id) => (entries.get(id)?.expires ?? 0) > now(),
    forget: (id) => void entries.delete(id),
  };
}

/** A response's id from a whole Responses answer, or from a stream's first events (response.created). */
export function responseIdIn(answer: Buffer | string): string | undefined {
  const text = typeof answer === "string" ? answer : answer.toString("utf8");
  // Whole: the top-level id. Streamed: the first data event's response.id (response.created).
  // Parsed, not searched for: the answer's text may hold anything.
  try {
    if (text.trimStart().startsWith("{")) return idOf(JSON.parse(text));
    for (const line of text.split(/\r?\n/)) {
      if (!line.startsWith("data:")) continue;
      const event = JSON.parse(line.slice(5)) as { response?: unknown };
      const id = idOf(event.response);
      if (id) return id;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function idOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === "string" && id.length > 0 && id.length <= 256 ? id : undefined;
}
