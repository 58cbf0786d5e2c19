/** `limits` and `clients[].limits`: how much one key may ask for, per minute and at once. */
import { z } from "zod";

export const keyLimits = z
  .strictObject({
    rpm: z.number().int().positive().optional().describe("requests per minute"),
    tpm: z.number().int().positive().optional().describe("tokens per minute: prompt and completion, reserved up front and settled to the real usage"),
    concurrency: z.number().int().positive().optional().describe("requests in flight at once"),
  })
  .describe("a key's limits; a limit left out is not limited");

export const limitsSection = z
  .strictObject({
    defaults: keyLimits.optional().describe("for keys without limits of their own (GATEWAY_API_KEYS keys included)"),
    completionEstimate: z.number().int().positive().optional().describe("tokens reserved for an answer whose request sets no max_tokens"),
  })
  .default({});
