/**
 * /v1/responses and the routes on a kept response: retrieve, delete, cancel and its input items.
 * A background create answers "in_progress" and finishes at once, so a retrieve after it reads the
 * completed response and a cancel still has something to cancel.
 */
import { openAIError } from "./errors.ts";
import { invalidUrl, missing, sendJson } from "./replies.ts";
import { inputItems, itemPage } from "./response-store.ts";
import { createResponse, inProgress, responseEvents, streamResponse, type Item, type ResponseRequest } from "./responses.ts";
import type { Exchange } from "./routes.ts";

const notFound = (id: string) => openAIError(404, `Response with id '${id}' not found.`);

export function responses(x: Exchange): void {
  const { req, res, path } = x;
  const method = req.method ?? "GET";
  if (path === "/v1/responses") return method === "POST" ? create(x) : invalidUrl(res, method, path);
  const [, id = "", action] = /^\/v1\/responses\/([^/]+)(?:\/([^/]+))?$/.exec(path) ?? [];
  const kept = x.responses.get(decodeURIComponent(id));
  const route = `${method} ${action ?? ""}`;
  if (!["GET ", "DELETE ", "POST cancel", "GET input_items"].includes(route)) return invalidUrl(res, method, path);
  if (!kept) return sendJson(res, 404, notFound(decodeURIComponent(id)));

  if (route === "GET ") return sendJson(res, 200, kept.response);
  if (route === "DELETE ") {
    x.responses.delete(kept.response.id);
    return sendJson(res, 200, { id: kept.response.id, object: "response", deleted: true });
  }
  if (route === "POST cancel") {
    if (!kept.response.background) return sendJson(res, 400, openAIError(400, "Only responses created with background=true can be cancelled."));
    kept.response.status = "cancelled";
    return sendJson(res, 200, kept.response);
  }
  const query = new URL(req.url ?? "/", "http://fake").searchParams;
  return sendJson(res, 200, itemPage(kept.inputItems, query));
}

function create(x: Exchange): void {
  const body = x.body as ResponseRequest | undefined;
  if (body?.input === undefined) return sendJson(x.res, 400, missing("input"));
  const id = `resp_fake_${x.seq}`;
  let chain: Item[] = [];
  if (body.previous_response_id != null) {
    const previous = x.responses.conversation(body.previous_response_id);
    // OpenAI answers an unknown (or unstored) previous response with a 400, not a 404.
    if (!previous) {
      const message = `Previous response with id '${body.previous_response_id}' not found.`;
      return sendJson(x.res, 400, openAIError(400, message, "previous_response_not_found", "previous_response_id"));
    }
    chain = previous;
  }
  const conversation = [...chain, ...x.responses.resolve(inputItems(body.input, id))];
  const whole = createResponse(id, body, conversation);
  if (body.store !== false) x.responses.save(whole, conversation);
  if (body.stream === true) return streamResponse(x.res, responseEvents(whole));
  sendJson(x.res, 200, body.background === true ? inProgress(whole) : whole);
}
