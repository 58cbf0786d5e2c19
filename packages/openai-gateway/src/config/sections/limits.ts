/** `limits`, `clients[].limits`, `clients[].budget`, `models.NAME.limits`, `prices` and `usage`: how much a key may ask for, what it costs, what is kept. */
import { z } from "zod";
import { duration } from "./chat.ts";

export const keyLimits = z
  .strictObject({
    rpm: z.number().int().positive().optional().describe("requests per minute"),
    tpm: z.number().int().positive().optional().describe("tokens per minute: prompt and completion, reserved up front and settled to the real usage"),
    concurrency: z.number().int().positive().optional().describe("requests in flight at once"),
  })
  .describe("a key's limits; a limit left out is not limited");

export const budget = z
  .strictObject({
    usd: z.number().positive().describe("what the key may spend per period, in US dollars"),
    period: z.enum(["day", "week", "month", "total"]).default("month").describe("UTC days, ISO weeks (from Monday), calendar months, or all time"),
  })
  .describe("a key's spending limit");

export const limitsSection = z
  .strictObject({
    store: z
      .string()
      .regex(/^(memory|rediss?:\/\/.+)$/, "expected 'memory' or a redis:// (rediss://) URL")
      .optional()
      .describe("memory: this process only; redis://HOST:PORT: shared by every replica (env REDIS_URL when not set here)"),
    defaults: keyLimits.optional().describe("for keys without limits of their own (GATEWAY_API_KEYS keys included)"),
    completionEstimate: z.number().int().positive().optional().describe("tokens reserved for an answer whose request sets no max_tokens"),
    expectedReplicas: z.number().int().positive().optional().describe("while Redis is out of reach, each replica limits locally at limit / expectedReplicas"),
    leaseTtl: duration.optional().describe("a request in flight holds a lease this long, renewed while it runs: a crashed replica's leases end after it"),
  })
  .default({});

const price = z.strictObject({
  input: z.number().min(0).describe("USD per 1M prompt tokens"),
  output: z.number().min(0).describe("USD per 1M completion tokens"),
  cachedInput: z.number().min(0).optional().describe("USD per 1M cached prompt tokens (default: input)"),
});

export const pricesSection = z
  .record(z.string().min(1), price)
  .default({})
  .describe("USD per 1M tokens by upstream model name, over the built-in table; `*` prices every model neither names");

export const usageSection = z
  .strictObject({
    store: z
      .string()
      .regex(/^(sqlite|off|postgres(ql)?:\/\/.+)$/, "expected 'sqlite', 'off' or a postgres:// URL")
      .optional()
      .describe("sqlite: usage.db in dataDir (one process); postgres://...: shared by replicas; off: no records"),
    retention: duration.optional().describe("records older than this are removed (default 90d)"),
  })
  .default({});
