/**
 * The model tools' backend at the gateway's /mcp: the gateway's own /v1 API, called in-process
 * (Fastify's inject: no socket, no second hop) with the Authorization of the MCP request that
 * carries the call, so a chat_completion at /mcp is exactly the chat completion that key would get
 * over HTTP: its models, aliases, fallback, retries, limits, metrics and log line. Streamed when the
 * client asked for progress, read as it arrives.
 */
import { readEvent, SseSplitter } from "@mcpgw/openai-protocol";
import { ToolFailure, type ChatAnswer, type ModelBackend, type ModelInfo } from "@mcpgw/mcp-tools";
import type { FastifyInstance } from "fastify";

export function inProcessModels(app: FastifyInstance, defaultModel: string): ModelBackend {
  const headersOf = (authorization: string | undefined) => ({ "content-type": "application/json", ...(authorization ? { authorization } : {}) });

  return {
    defaultModel,
    async chat(request, { signal, authorization, onText }) {
      const what = `chat completion with model '${request.model}'`;
      if (!onText) {
        const res = await app.inject({ method: "POST", url: "/v1/chat/completions", headers: headersOf(authorization), payload: JSON.stringify({ ...request, stream: false }), ...(signal ? { signal } : {}) });
        const body = parse(res.body);
        if (res.statusCode >= 400) throw failure(what, res.statusCode, body);
        const choice = (body as Completion).choices?.[0];
        return { model: (body as Completion).model ?? request.model, content: choice?.message?.content ?? choice?.message?.refusal ?? "", finish_reason: choice?.finish_reason ?? null, usage: usageOf((body as Completion).usage) };
      }
      const res = await app.inject({
        method: "POST",
        url: "/v1/chat/completions",
        headers: headersOf(authorization),
        payload: JSON.stringify({ ...request, stream: true, stream_options: { include_usage: true } }),
        payloadAsStream: true,
        ...(signal ? { signal } : {}),
      });
      const stream = res.stream();
      if (res.statusCode >= 400) {
        let text = "";
        for await (const chunk of stream) text += chunk;
        throw failure(what, res.statusCode, parse(text));
      }
      const answer: ChatAnswer = { model: request.model, content: "", finish_reason: null, usage: null };
      const splitter = new SseSplitter();
      for await (const chunk of stream) {
        for (const raw of splitter.push(Buffer.from(chunk as Buffer)).events) {
          const { data } = readEvent(raw);
          if (data === undefined || data === "[DONE]") continue;
          const event = parse(data) as Completion & { error?: { message?: string } };
          if (event.error) throw new ToolFailure(`The ${what} failed midway: ${event.error.message ?? "the gateway gave no reason"}.`);
          if (event.model) answer.model = event.model;
          const choice = event.choices?.[0];
          if (choice?.delta?.content) {
            answer.content += choice.delta.content;
            onText(answer.content);
          }
          if (choice?.finish_reason) answer.finish_reason = choice.finish_reason;
          if (event.usage) answer.usage = usageOf(event.usage);
        }
      }
      signal?.throwIfAborted();
      return answer;
    },
    async listModels({ signal, authorization }): Promise<ModelInfo[]> {
      const res = await app.inject({ method: "GET", url: "/v1/models", headers: headersOf(authorization), ...(signal ? { signal } : {}) });
      const body = parse(res.body) as { data?: { id: string; owned_by?: string; created?: number }[] };
      if (res.statusCode >= 400) throw failure("model list", res.statusCode, body);
      return (body.data ?? []).map((m) => ({ id: m.id, owned_by: m.owned_by ?? "", created: m.created ?? 0 }));
    },
  };
}

interface Completion {
  model?: string;
  choices?: { message?: { content?: string | null; refusal?: string | null }; delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return {};
  }
}

/** The gateway's own error body (already scrubbed), in a sentence with what to do. */
function failure(what: string, status: number, body: unknown): ToolFailure {
  const message = (body as { error?: { message?: string } })?.error?.message ?? "no message";
  const hint = status === 404 ? " Call list_models to see the models you may use." : "";
  return new ToolFailure(`The ${what} failed (HTTP ${status}): ${message}${hint}`);
}

function usageOf(u: Completion["usage"]): ChatAnswer["usage"] {
  return u ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens, total_tokens: u.total_tokens } : null;
}
