/** `clients`: the keys clients present to the gateway, as hashes or environment variable names, never as plain text. */
import { z } from "zod";
import { budget, keyLimits } from "./limits.ts";

const clientKey = z
  .strictObject({
    name: z.string().min(1).regex(/^[\w.-]+$/, "letters, digits, '_', '.', '-' only"),
    keyHash: z
      .string()
      .regex(/^(sha256:)?[0-9a-f]{64}$/i, "expected sha256 hex digest (64 hex characters, optional 'sha256:' prefix)")
      .optional(),
    keyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, "expected an environment variable name").optional(),
    models: z.array(z.string().min(1)).min(1).default(["*"]),
    tools: z.array(z.string().min(1)).default([]).describe("MCP tools this key may call itself (REST /tools): selectors as for models' tools"),
    limits: keyLimits.optional(),
    budget: budget.optional(),
    admin: z.boolean().default(false).describe("may read every key's usage (GET /usage) and open /dashboard"),
  })
  .refine((c) => (c.keyHash === undefined) !== (c.keyEnv === undefined), {
    message: "give exactly one of keyHash or keyEnv (plain keys are accepted only from the environment)",
  });

export const clientsSection = z.array(clientKey).default([]);
