/**
 * The config file's shape (YAML or JSON), checked once at start. Secrets never appear in the file
 * itself: they are `${ENV_NAME}` references, resolved before this schema runs.
 */
import { z } from "zod";

const duration = z.number().int().positive();

const provider = z.strictObject({
  type: z.enum(["openai", "azure"]).default("openai").describe(
    "openai: any OpenAI-compatible base URL (OpenAI, Ollama, vLLM, OpenRouter, LM Studio); azure: Azure OpenAI",
  ),
  baseUrl: z.url({ protocol: /^https?$/ }).describe(
    "openai: the base URL including /v1; azure: the resource endpoint, e.g. https://NAME.openai.azure.com",
  ),
  apiKey: z.string().min(1).optional().describe("Upstream key, usually `${ENV_NAME}`; omit for keyless local servers"),
  apiVersion: z.string().min(1).default("2024-10-21").describe("azure only: the api-version query parameter"),
  headers: z.record(z.string(), z.string()).optional().describe("Extra headers sent to this upstream"),
});

const target = z.union([
  z.string().regex(/^[^/]+\/.+$/, "expected 'provider/model'"),
  z.strictObject({ provider: z.string().min(1), model: z.string().min(1) }),
]);

const model = z.union([target, z.array(target).min(1)]);

const clientKey = z
  .strictObject({
    name: z.string().min(1).regex(/^[\w.-]+$/, "letters, digits, '_', '.', '-' only"),
    keyHash: z
      .string()
      .regex(/^(sha256:)?[0-9a-f]{64}$/i, "expected sha256 hex digest (64 hex characters, optional 'sha256:' prefix)")
      .optional(),
    keyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name").optional(),
    models: z.array(z.string().min(1)).min(1).default(["*"]),
  })
  .refine((c) => (c.keyHash === undefined) !== (c.keyEnv === undefined), {
    message: "give exactly one of keyHash or keyEnv (plain keys are accepted only from the environment)",
  });

export const configFileSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: z.number().int().min(0).max(65535).optional(),
      bodyLimitBytes: z.number().int().positive().optional(),
      shutdownGraceMs: duration.optional(),
    })
    .default({}),
  providers: z.record(z.string().regex(/^[\w.-]+$/), provider).refine((p) => Object.keys(p).length > 0, {
    message: "at least one provider is required",
  }),
  models: z.record(z.string().min(1), model).default({}),
  passthrough: z.string().optional().describe("Provider that receives model names no alias matches"),
  clients: z.array(clientKey).default([]),
  timeouts: z
    .strictObject({
      connectMs: duration.optional(),
      firstByteMs: duration.optional(),
      idleMs: duration.optional(),
      totalMs: duration.optional(),
    })
    .default({}),
  retry: z
    .strictObject({
      maxAttempts: z.number().int().min(1).max(10).optional(),
      baseDelayMs: z.number().int().min(0).optional(),
      maxDelayMs: z.number().int().min(0).optional(),
      maxRetryAfterMs: z.number().int().min(0).optional(),
    })
    .default({}),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
