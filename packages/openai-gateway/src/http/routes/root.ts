/** GET /: who answers here and where to go next, for a person or a script that found the port. */
import type { FastifyInstance } from "fastify";

export interface Welcome {
  version: string;
  /** The /v1 API is served (not by the tools-only `tools` command). */
  v1: boolean;
  /** Some MCP server is configured: its tools are at /tools. */
  tools: () => boolean;
}

export function rootRoute(app: FastifyInstance, welcome: Welcome): void {
  app.get("/", async () => ({
    name: "mcpgw",
    service: "openai-gateway",
    version: welcome.version,
    endpoints: {
      ...(welcome.v1 ? { models: "/v1/models", chat_completions: "/v1/chat/completions", responses: "/v1/responses", chat: "/chat" } : {}),
      ...(welcome.tools() ? { tools: "/tools/openapi.json", tools_docs: "/tools/docs" } : {}),
      health: "/health",
      ready: "/ready",
      metrics: "/metrics",
    },
  }));
}
