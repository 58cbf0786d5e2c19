/**
 * Chat sessions (POST /chat): one message in, one reply out, the conversation kept by the gateway.
 * A message is answered by the same tool loop as /v1/chat/completions, with the session's history
 * before it; the turn (the message and everything its answer added) is written only once the
 * answer is complete, so a failed or abandoned answer leaves the history as it was and the message
 * can simply be sent again. Messages of one session are answered in the order they came.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ChatMessage, Conversed, ToolLoop } from "../chat/tool-loop.ts";
import { DEFAULT_MAX_TOOL_ROUNDS, MCP_GATEWAY_MODEL } from "../config/defaults.ts";
import type { ChatSettings, ClientKey, GatewayConfig, ToolModelSettings } from "../config/types.ts";
import { GatewayError, badRequest } from "../errors.ts";
import { mayUse } from "../models/access.ts";
import type { ModelRouter } from "../models/router.ts";
import { CLIENT_GONE } from "../request-lifetime.ts";
import { EventStream } from "../relay/event-stream.ts";
import { ChatEventOutput, chatEvent } from "./chat-events.ts";
import { openSessionStore, type SessionStore, type SessionSummary } from "./session-store.ts";
import { SessionQueue } from "./session-queue.ts";

export interface ChatInput {
  message: string;
  sessionId: string | undefined;
  model: string | undefined;
  stream: boolean;
  /** A system message for a new session. */
  system: string | undefined;
}

export interface ChatService {
  answer(request: FastifyRequest, reply: FastifyReply, input: ChatInput): Promise<FastifyReply>;
  list(client: ClientKey): SessionSummary[];
  history(client: ClientKey, id: string): Omit<SessionSummary, "messages"> & { messages: ChatMessage[] };
  remove(client: ClientKey, id: string): void;
  /** The default model for this key, or undefined when it has to name one. */
  defaultModel(client: ClientKey): string | undefined;
  /** The model a message will go to: the one it names, else its session's, else the key's default. */
  modelOf(client: ClientKey, sessionId: string | undefined, model: string | undefined): string | undefined;
  close(): void;
}

export interface ChatServiceDeps {
  settings: ChatSettings;
  routing: Pick<GatewayConfig, "aliases" | "passthrough" | "toolModels">;
  router: ModelRouter;
  toolLoop: ToolLoop;
  log: FastifyRequest["log"];
}

/** A session's messages are stored as the model saw them; /chat shows tool calls as turns, not as cards. */
const NO_CARDS = { toolDisplay: "none" } as const;

export function createChatService(deps: ChatServiceDeps): ChatService {
  const { settings, routing, router, toolLoop, log } = deps;
  const queue = new SessionQueue();
  // Opened on first use: a gateway that serves no chat writes no file.
  let store: SessionStore | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  const sessions = (): SessionStore => {
    if (store) return store;
    try {
      store = openSessionStore(settings.store, settings);
    } catch (err) {
      log.error({ err, store: settings.store }, "the chat store could not be opened");
      throw new GatewayError(503, `The chat sessions cannot be stored: ${(err as Error).message} (chat.store ${settings.store}).`, { code: "chat_store_unavailable" });
    }
    log.info({ store: settings.store }, "chat sessions store opened");
    // Idle sessions go within a tenth of their ttl (at most an hour late, at least a second apart).
    const every = Math.min(Math.max(settings.ttlMs / 10, 1000), 3_600_000);
    sweeper = setInterval(() => {
      const expired = store?.expire() ?? 0;
      if (expired > 0) log.info({ expired }, "chat sessions expired");
    }, every).unref();
    return store;
  };

  const notFound = (id: string) => new GatewayError(404, `There is no chat session '${id.slice(0, 80)}'.`, { param: "session_id", code: "session_not_found" });

  function defaultModel(client: ClientKey): string | undefined {
    if (settings.model) return settings.model;
    if (routing.toolModels.has(MCP_GATEWAY_MODEL) && mayUse(client.models, MCP_GATEWAY_MODEL)) return MCP_GATEWAY_MODEL;
    const allowed = [...routing.aliases.keys()].filter((m) => mayUse(client.models, m));
    // With a passthrough provider a pattern admits names the gateway cannot list: not "the only model".
    const open = routing.passthrough !== undefined && client.models.some((p) => p.endsWith("*"));
    return allowed.length === 1 && !open ? allowed[0] : undefined;
  }

  function settingsFor(model: string): ToolModelSettings {
    const tooled = routing.toolModels.get(model);
    return tooled ? { ...tooled, ...NO_CARDS } : { selectors: [], instructions: undefined, maxToolRounds: DEFAULT_MAX_TOOL_ROUNDS, ...NO_CARDS };
  }

  async function answer(request: FastifyRequest, reply: FastifyReply, input: ChatInput): Promise<FastifyReply> {
    const client = request.client!;
    const db = sessions();
    let id = input.sessionId;
    let model: string;
    if (id !== undefined) {
      // Silently dropped it would look applied: the history already begins as it began.
      if (input.system !== undefined) throw badRequest("\"system\" starts a new session: send it without session_id.", "system", "system_with_session");
      const session = db.find(id, client.name);
      if (!session) throw notFound(id);
      model = input.model ?? session.model;
    } else {
      const chosen = input.model ?? defaultModel(client);
      if (!chosen) {
        if (routing.aliases.size === 0 && routing.passthrough === undefined) {
          throw new GatewayError(404, "This gateway serves no models (its config names no model alias and no passthrough provider), so it cannot chat.", { param: "model", code: "model_not_found" });
        }
        const allowed = [...routing.aliases.keys()].filter((m) => mayUse(client.models, m));
        throw badRequest(
          `Name a model: send "model", or set chat.model in the gateway's config${allowed.length > 0 ? ` (this key may use ${allowed.slice(0, 10).join(", ")})` : ""}.`,
          "model",
          "model_required",
        );
      }
      model = chosen;
    }
    // A model the key may not use is a 404 now, before a session is made for it.
    router.resolve(model, client);
    if (id === undefined) {
      const created = db.create(client.name, model, input.system);
      id = created.id;
      if (created.evicted.length > 0) request.log.info({ evicted: created.evicted.length, key: client.name }, "chat sessions ended: chat.maxSessionsPerKey reached");
    }
    const sessionId = id;
    reply.header("x-session-id", sessionId);

    // The work returns nothing: a reply is a thenable that settles only once sent, and must never be
    // what a promise waits on before that.
    await queue.run(sessionId, async () => {
      // Waited in line and left meanwhile: nothing to answer.
      if (reply.raw.destroyed) {
        reply.hijack();
        return;
      }
      const user: ChatMessage = { role: "user", content: input.message };
      const call = { model, settings: settingsFor(model), body: { model, messages: [...db.messages(sessionId), user] }, stream: input.stream, clientWantsUsage: false };
      let output: ChatEventOutput | undefined;
      let conversed: Conversed;
      try {
        conversed = await toolLoop.converse(request, reply, call, input.stream ? streamOutput((o) => (output = o), reply, sessionId, model) : undefined);
      } catch (err) {
        if (err === CLIENT_GONE) return;
        throw err;
      }
      const failed = conversed.failed || output?.failed === true;
      // Only a whole answer joins the history (the session may have ended while it ran: then nothing is kept).
      if (!failed && db.find(sessionId, client.name)) db.append(sessionId, model, [user, ...conversed.turns]);
      const result = { response: conversed.content, session_id: sessionId, model, tool_calls: conversed.runs, usage: conversed.usage ?? null };
      if (!input.stream) {
        reply.send(result);
        return;
      }
      if (output && !failed) output.send("done", result);
      output?.close();
    });
    return reply;
  }

  return {
    answer,
    list: (client) => sessions().list(client.name),
    history(client, id) {
      const db = sessions();
      const session = db.find(id, client.name);
      if (!session) throw notFound(id);
      return { ...session, messages: db.messages(id) };
    },
    remove(client, id) {
      if (!sessions().remove(id, client.name)) throw notFound(id);
    },
    defaultModel,
    modelOf: (client, sessionId, model) => model ?? (sessionId === undefined ? undefined : sessions().find(sessionId, client.name)?.model) ?? defaultModel(client),
    close() {
      clearInterval(sweeper);
      store?.close();
      store = undefined;
    },
  };
}

/** The loop's output for a streamed /chat answer: the SSE stream opens with the session event, then tool events as calls start and end. */
function streamOutput(opened: (o: ChatEventOutput) => void, reply: FastifyReply, sessionId: string, model: string) {
  let out: ChatEventOutput | undefined;
  return {
    open(first: string | Buffer) {
      out = new ChatEventOutput(EventStream.open(reply, "text/event-stream", chatEvent("session", { session_id: sessionId, model })));
      opened(out);
      out.write(first);
      return out;
    },
    toolsStarted(calls: { id: string; name: string; server: string; tool: string }[]) {
      for (const c of calls) out?.send("tool", { ...c, status: "running" });
    },
    toolFinished(run: { id: string; name: string; server: string; tool: string; outcome: string; ms: number }) {
      out?.send("tool", { id: run.id, name: run.name, server: run.server, tool: run.tool, status: run.outcome, ms: run.ms });
    },
  };
}
