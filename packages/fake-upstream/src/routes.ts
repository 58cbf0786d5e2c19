import type { IncomingMessage, ServerResponse } from "node:http";
import { audioText, speech } from "./audio.ts";
import { chatChunks, chatCompletion, embeddings, model, modelList, scriptedChunks, scriptedCompletion } from "./completions.ts";
import type { RecordedForm } from "./form.ts";
import { imageGeneration, moderation, textCompletion, textCompletionChunks } from "./more-apis.ts";
import { invalidUrl, missing, sendJson } from "./replies.ts";
import type { ResponseStore } from "./response-store.ts";
import { responses } from "./responses-routes.ts";
import { scriptedTurn } from "./script.ts";
import { openAIError } from "./errors.ts";
import { streamChunks } from "./sse.ts";

export { sendJson } from "./replies.ts";

/** One request in flight, as the behaviours and routes see it. */
export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  body: any;
  /** 1-based position in the recorded requests; names the completion (chatcmpl-fake-N). */
  seq: number;
  /** Aborts when the response closes, so pending delays stop with it. */
  signal: AbortSignal;
  models: string[];
  /** The parsed multipart body, when the request was multipart/form-data (then `body` is undefined). */
  form?: RecordedForm;
  /** This fake instance's kept responses. */
  responses: ResponseStore;
}

export const chatId = (x: Exchange) => `chatcmpl-fake-${x.seq}`;

/** The "ok" behaviour: what a healthy OpenAI upstream answers on each route. */
export async function answer(x: Exchange): Promise<void> {
  const { req, res, path, body } = x;
  const modelId = /^\/v1\/models\/(.+)$/.exec(path)?.[1];
  if (req.method === "GET" && path === "/v1/models") return sendJson(res, 200, modelList(x.models));
  if (req.method === "GET" && modelId !== undefined) {
    const id = decodeURIComponent(modelId);
    if (x.models.includes(id)) return sendJson(res, 200, model(id));
    const message = `The model '${id}' does not exist or you do not have access to it.`;
    return sendJson(res, 404, openAIError(404, message, "model_not_found", "model"));
  }
  if (req.method === "POST" && path === "/v1/chat/completions") {
    if (!Array.isArray(body?.messages)) return sendJson(res, 400, missing("messages"));
    const turn = scriptedTurn(body);
    if (turn) {
      if (body.stream === true) return streamChunks(res, scriptedChunks(chatId(x), body, turn), x.signal);
      return sendJson(res, 200, scriptedCompletion(chatId(x), body, turn));
    }
    if (body.stream === true) return streamChunks(res, chatChunks(chatId(x), body), x.signal);
    return sendJson(res, 200, chatCompletion(chatId(x), body));
  }
  if (req.method === "POST" && path === "/v1/embeddings") {
    if (body?.input === undefined) return sendJson(res, 400, missing("input"));
    return sendJson(res, 200, embeddings(body));
  }
  if (path === "/v1/responses" || path.startsWith("/v1/responses/")) return responses(x);
  if (req.method === "POST" && path === "/v1/completions") {
    if (body?.prompt === undefined) return sendJson(res, 400, missing("prompt"));
    if (body.stream === true) return streamChunks(res, textCompletionChunks(`cmpl-fake-${x.seq}`, body), x.signal);
    return sendJson(res, 200, textCompletion(`cmpl-fake-${x.seq}`, body));
  }
  if (req.method === "POST" && path === "/v1/moderations") {
    if (body?.input === undefined) return sendJson(res, 400, missing("input"));
    return sendJson(res, 200, moderation(`modr-fake-${x.seq}`, body));
  }
  if (req.method === "POST" && path === "/v1/images/generations") {
    if (typeof body?.prompt !== "string") return sendJson(res, 400, missing("prompt"));
    return sendJson(res, 200, imageGeneration(body));
  }
  if (req.method === "POST" && path === "/v1/audio/transcriptions") return audioText(res, x.form, "transcribe", x.signal);
  if (req.method === "POST" && path === "/v1/audio/translations") return audioText(res, x.form, "translate", x.signal);
  if (req.method === "POST" && path === "/v1/audio/speech") return speech(res, body, x.signal);
  invalidUrl(res, req.method ?? "GET", path);
}
