/**
 * Chat sessions over HTTP: POST /chat (one message, one reply; `"stream": true` for SSE),
 * GET /chat (the key's sessions), GET /chat/{id} (one session's messages), DELETE /chat/{id}.
 * Every route needs a client key, and a session is seen only by the key that started it.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ChatService } from "../../chat-sessions/chat-service.ts";
import type { ClientKey } from "../../config/types.ts";
import { clientAuth } from "../plugins/client-auth.ts";
import type { Admission } from "../../limits/admission.ts";
import { parseBody } from "./validate-body.ts";

const chatRequest = z.looseObject({
  message: z.string().trim().min(1, "must not be empty"),
  session_id: z.string().min(1).max(200).optional(),
  model: z.string().min(1).max(256).optional(),
  stream: z.boolean().optional(),
  system: z.string().min(1).optional(),
});

export async function chatRoutes(app: FastifyInstance, deps: { chat: ChatService; clients: ClientKey[]; admission: Admission }): Promise<void> {
  const { chat } = deps;
  await app.register(clientAuth, { clients: deps.clients });
  app.post("/chat", async (request, reply) => {
    const body = parseBody(chatRequest, request.body);
    // The history is not read yet: the estimate is the message's, settled to the real usage; the
    // model (priced for budgets, named in usage records) is the one the message will go to.
    const model = chat.modelOf(request.client!, body.session_id, body.model);
    await deps.admission.chat(request, reply, { model, messages: [{ role: "user", content: body.message }] });
    return chat.answer(request, reply, { message: body.message, sessionId: body.session_id, model: body.model, stream: body.stream === true, system: body.system });
  });
  app.get("/chat", async (request) => ({ sessions: chat.list(request.client!) }));
  app.get<{ Params: { id: string } }>("/chat/:id", async (request) => {
    const { session_id, model, created_at, updated_at, messages } = chat.history(request.client!, request.params.id);
    return { session_id, model, created_at, updated_at, messages };
  });
  app.delete<{ Params: { id: string } }>("/chat/:id", async (request) => {
    chat.remove(request.client!, request.params.id);
    return { session_id: request.params.id, deleted: true };
  });
}
