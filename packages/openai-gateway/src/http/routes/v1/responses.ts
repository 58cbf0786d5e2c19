/**
 * The Responses API: POST /v1/responses (relayed as chat is, or run as an MCP tool loop when its
 * tools name the gateway's own MCP servers), and the calls on a stored response (GET, DELETE,
 * cancel, input_items), each sent to the target that created it. A key finds only the responses it
 * created; every other id is answered as OpenAI answers an unknown one (404).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { targetsFor, type Completions } from "../../../chat/completion.ts";
import type { Target } from "../../../config/types.ts";
import { GatewayError } from "../../../errors.ts";
import { jsonTokens, type Admission } from "../../../limits/admission.ts";
import type { McpRegistry } from "../../../mcp/clients/types.ts";
import type { ModelRouter } from "../../../models/router.ts";
import { responseIdIn, type ResponseDirectory, type StoredResponse } from "../../../responses/directory.ts";
import type { ResponsesMcpLoop } from "../../../responses/mcp-loop.ts";
import { localMcpTools } from "../../../responses/mcp-tools.ts";
import { parseBody } from "../validate-body.ts";

const createRequest = z.looseObject({ model: z.string().min(1), input: z.union([z.string(), z.array(z.unknown())]) });


export function responsesRoutes(
  app: FastifyInstance,
  deps: { completions: Completions; admission: Admission; router: ModelRouter; directory: ResponseDirectory; registry: McpRegistry; mcpLoop: ResponsesMcpLoop },
): void {
  const { completions, directory } = deps;

  app.post("/v1/responses", async (request, reply) => {
    const body = parseBody(createRequest, request.body);
    const cap = body.max_output_tokens;
    await deps.admission.admit(request, reply, body.model, { prompt: jsonTokens(body.input) + jsonTokens(body.instructions), completion: typeof cap === "number" && cap > 0 ? cap : undefined });
    const client = request.client!.name;
    const { targets, previous } = continuing(request, targetsFor(request, deps.router, body.model), body.previous_response_id);
    const stream = body.stream === true;
    const local = localMcpTools(body.tools, { registry: deps.registry, client: request.client!, host: request.headers.host });
    if (local) return deps.mcpLoop.run(request, reply, { model: body.model, targets, body, local, stream });
    return completions.run(request, reply, {
      path: "/responses",
      model: body.model,
      targets,
      stream,
      // The Responses API reports usage in response.completed of its own accord: it is the client's.
      clientWantsUsage: true,
      bodyFor: (target) => JSON.stringify(previous === body.previous_response_id ? { ...body, model: target.model } : { ...body, model: target.model, previous_response_id: previous }),
      onServed(target, answer) {
        const id = responseIdIn(answer);
        if (id) directory.remember(id, { client, model: body.model, target });
      },
    });
  });

  /** The stored response this key created, or OpenAI's 404; its model must still be one the key may use. */
  const stored = (request: FastifyRequest<{ Params: { id: string } }>): StoredResponse => {
    const entry = directory.find(request.params.id, request.client!.name);
    if (!entry) throw notFound(request.params.id);
    return entry;
  };
  const relay = (method: "GET" | "POST" | "DELETE", suffix: string, onServed?: (entry: StoredResponse, id: string) => void) =>
    async (request: FastifyRequest<{ Params: { id: string } }>, reply: import("fastify").FastifyReply) => {
      const entry = stored(request);
      const id = request.params.id;
      const query = queryOf(request.raw.url);
      return completions.run(request, reply, {
        path: `/responses/${encodeURIComponent(entry.upstreamId ?? id)}${suffix}${query}`,
        method,
        model: entry.model,
        targets: [entry.target],
        // A retrieve may ask for the stream of a background response again.
        stream: method === "GET" && suffix === "" && new URLSearchParams(query).get("stream") === "true",
        clientWantsUsage: true,
        uncounted: true,
        bodyFor: () => undefined,
        onServed: onServed && (() => onServed(entry, id)),
      });
    };

  app.get("/v1/responses/:id", relay("GET", ""));
  app.delete("/v1/responses/:id", relay("DELETE", "", (_entry, id) => directory.forget(id)));
  app.post("/v1/responses/:id/cancel", relay("POST", "/cancel"));
  app.get("/v1/responses/:id/input_items", relay("GET", "/input_items"));

  /**
   * A request that continues a response (previous_response_id) goes to the target that holds it: an
   * alias's fallback must not send it to a provider that never saw it. Another key's response is
   * not found; an id this process does not know goes to the model's targets as asked.
   */
  function continuing(request: FastifyRequest, targets: Target[], previous: unknown): { targets: Target[]; previous: unknown } {
    if (typeof previous !== "string") return { targets, previous };
    const entry = directory.find(previous, request.client!.name);
    if (!entry) {
      if (directory.known(previous)) throw previousNotFound(previous);
      return { targets, previous };
    }
    const same = targets.filter((t) => t.provider === entry.target.provider);
    return { targets: same.length > 0 ? same : targets, previous: entry.upstreamId ?? previous };
  }
}

function notFound(id: string): GatewayError {
  return new GatewayError(404, `Response with id '${id.slice(0, 128)}' not found.`, { type: "invalid_request_error" });
}

/** As OpenAI answers a previous_response_id it does not have. */
function previousNotFound(id: string): GatewayError {
  return new GatewayError(400, `Previous response with id '${id.slice(0, 128)}' not found.`, { param: "previous_response_id", code: "previous_response_not_found" });
}

/** The request's query string, as sent (`?` included), or "". */
function queryOf(url: string | undefined): string {
  const at = url?.indexOf("?") ?? -1;
  return at < 0 ? "" : url!.slice(at);
}
