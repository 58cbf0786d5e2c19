/**
 * Prometheus metrics, one registry per gateway instance (tests run several in one process).
 * Labels stay low-cardinality whatever clients send: route patterns, key *names*, provider names,
 * and model names only once an upstream accepted them, each shortened and at most
 * MAX_MODEL_LABELS distinct (the rest count as "other").
 */
import type { Usage } from "@mcpgw/openai-protocol";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

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
  /** The label value for a model name (empty when none was accepted). */
  modelLabel(name: string | undefined): string;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gateway_process_" });
  const models = new Set<string>();
  return {
    registry,
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
  };
}

export function countTokens(metrics: Metrics, key: string, model: string, usage: Usage | undefined): void {
  if (!usage) return;
  const label = metrics.modelLabel(model);
  if (typeof usage.prompt_tokens === "number") metrics.tokens.inc({ key, model: label, kind: "prompt" }, usage.prompt_tokens);
  if (typeof usage.completion_tokens === "number") metrics.tokens.inc({ key, model: label, kind: "completion" }, usage.completion_tokens);
}
