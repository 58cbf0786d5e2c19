/**
 * Prometheus metrics, one registry per gateway instance (tests run several in one process).
 * Labels stay low-cardinality whatever clients send: route patterns, key *names*, provider names,
 * and model names only once an upstream accepted them, each shortened and at most
 * MAX_MODEL_LABELS distinct (the rest count as "other").
 */
import type { Usage } from "@mcpgw/openai-protocol";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { RegistryMetrics } from "../mcp/clients/types.ts";

export const MAX_LABEL_LENGTH = 128;
export const MAX_MODEL_LABELS = 256;

export interface Metrics {
  registry: Registry;
  requests: Counter<"route" | "method" | "status" | "model" | "key">;
  duration: Histogram<"route" | "model">;
  attempts: Counter<"provider" | "outcome">;
  retries: Counter<"provider">;
  fallbacks: Counter<"model">;
  tokens: Counter<"key" | "model" | "kind">;
  /** Requests a key's limits refused, by the limit (requests, tokens, concurrency). */
  rateLimited: Counter<"key" | "limit">;
  /** What is left of a key's budget in its current period, USD. */
  budgetRemaining: Gauge<"key">;
  /** The limit store: 1 while its shared store (Redis) answers; errors, and requests limited locally instead. */
  limitStoreUp: Gauge;
  limitStoreErrors: Counter;
  limitStoreFallbacks: Counter;
  /** Usage rows: failed writes (retried), and rows dropped when the queue overflowed. */
  usageStoreErrors: Counter;
  usageRowsDropped: Counter;
  mcpServerUp: Gauge<"server">;
  toolCalls: Counter<"server" | "tool" | "outcome">;
  toolCallDuration: Histogram<"server" | "tool">;
  toolRounds: Histogram<"model">;
  /** The label value for a model name (empty when none was accepted). */
  modelLabel(name: string | undefined): string;
  /** What the MCP registry reports, into these metrics. */
  mcp: RegistryMetrics;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gateway_process_" });
  const models = new Set<string>();
  const mcpServerUp = new Gauge({
    name: "gateway_mcp_server_up",
    help: "1 while an MCP server is connected and ready, 0 while it is connecting, failed or restarting.",
    labelNames: ["server"],
    registers: [registry],
  });
  const toolCalls = new Counter({
    name: "gateway_mcp_tool_calls_total",
    help: "MCP tool calls the gateway made, by server, tool and outcome (ok, tool_error, timeout, server_unavailable, cancelled...).",
    labelNames: ["server", "tool", "outcome"],
    registers: [registry],
  });
  const toolCallDuration = new Histogram({
    name: "gateway_mcp_tool_call_duration_seconds",
    help: "Time an MCP tool call took, by server and tool.",
    labelNames: ["server", "tool"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  // Tool names come from the configured servers, not from clients; still kept short.
  const short = (s: string) => (s.length > MAX_LABEL_LENGTH ? s.slice(0, MAX_LABEL_LENGTH) : s);
  return {
    registry,
    mcpServerUp,
    toolCalls,
    toolCallDuration,
    toolRounds: new Histogram({
      name: "gateway_tool_rounds",
      help: "Rounds of MCP tool calls one chat completion of a tool-enabled model took.",
      labelNames: ["model"],
      buckets: [0, 1, 2, 3, 4, 6, 8, 12, 20, 50],
      registers: [registry],
    }),
    mcp: {
      serverUp: (server, up) => mcpServerUp.set({ server: short(server) }, up ? 1 : 0),
      toolCall(server, tool, outcome, seconds) {
        toolCalls.inc({ server: short(server), tool: short(tool), outcome });
        toolCallDuration.observe({ server: short(server), tool: short(tool) }, seconds);
      },
    },
    modelLabel(name) {
      if (!name) return "";
      const value = name.length > MAX_LABEL_LENGTH ? name.slice(0, MAX_LABEL_LENGTH) : name;
      if (models.has(value)) return value;
      if (models.size >= MAX_MODEL_LABELS) return "other";
      models.add(value);
      return value;
    },
    requests: new Counter({
      name: "gateway_requests_total",
      help: "Client requests by route, method, status, public model and client key name. Status 499: the client went away.",
      labelNames: ["route", "method", "status", "model", "key"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "gateway_request_duration_seconds",
      help: "Time from request received to response finished (for streams: the last chunk).",
      labelNames: ["route", "model"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    attempts: new Counter({
      name: "gateway_upstream_attempts_total",
      help: "Requests sent to upstream providers, by outcome (HTTP status or error kind).",
      labelNames: ["provider", "outcome"],
      registers: [registry],
    }),
    retries: new Counter({
      name: "gateway_upstream_retries_total",
      help: "Retries of an upstream request after a retryable failure.",
      labelNames: ["provider"],
      registers: [registry],
    }),
    fallbacks: new Counter({
      name: "gateway_fallbacks_total",
      help: "Times a model alias moved on to its next target.",
      labelNames: ["model"],
      registers: [registry],
    }),
    tokens: new Counter({
      name: "gateway_tokens_total",
      help: "Tokens reported by upstreams, by client key name, public model and kind (prompt, completion).",
      labelNames: ["key", "model", "kind"],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: "gateway_rate_limited_total",
      help: "Requests refused by limits, by client key name and reason (requests, tokens, concurrency, budget, unavailable).",
      labelNames: ["key", "limit"],
      registers: [registry],
    }),
    budgetRemaining: new Gauge({
      name: "gateway_budget_remaining_usd",
      help: "What is left of a key's budget in its current period, in USD (as of its last request).",
      labelNames: ["key"],
      registers: [registry],
    }),
    limitStoreUp: new Gauge({ name: "gateway_limit_store_up", help: "1 while the limit store answers (always 1 for memory); 0 while Redis is out of reach and limits are local.", registers: [registry] }),
    limitStoreErrors: new Counter({ name: "gateway_limit_store_errors_total", help: "Limit store commands that failed.", registers: [registry] }),
    limitStoreFallbacks: new Counter({
      name: "gateway_limit_store_fallbacks_total",
      help: "Requests limited in this process (at limit / limits.expectedReplicas) because Redis was out of reach.",
      registers: [registry],
    }),
    usageStoreErrors: new Counter({ name: "gateway_usage_store_errors_total", help: "Usage record batches that failed to write (kept and retried).", registers: [registry] }),
    usageRowsDropped: new Counter({ name: "gateway_usage_rows_dropped_total", help: "Usage rows dropped because the store stayed unwritable and the queue was full.", registers: [registry] }),
  };
}

export function countTokens(metrics: Metrics, key: string, model: string, usage: Usage | undefined): void {
  if (!usage) return;
  const label = metrics.modelLabel(model);
  if (typeof usage.prompt_tokens === "number") metrics.tokens.inc({ key, model: label, kind: "prompt" }, usage.prompt_tokens);
  if (typeof usage.completion_tokens === "number") metrics.tokens.inc({ key, model: label, kind: "completion" }, usage.completion_tokens);
}
