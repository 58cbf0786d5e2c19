/** `timeouts` and `retry`: how long the gateway waits for upstreams, and how often it asks again. */
import { z } from "zod";

const duration = z.number().int().positive();

export const timeoutsSection = z
  .strictObject({
    connectMs: duration.optional(),
    firstByteMs: duration.optional(),
    idleMs: duration.optional(),
    totalMs: duration.optional(),
  })
  .default({});

export const retrySection = z
  .strictObject({
    maxAttempts: z.number().int().min(1).max(10).optional(),
    baseDelayMs: z.number().int().min(0).optional(),
    maxDelayMs: z.number().int().min(0).optional(),
    maxRetryAfterMs: z.number().int().min(0).optional(),
  })
  .default({});
