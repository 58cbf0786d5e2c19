/** `server`: where the gateway listens, and the limits and timeouts of the HTTP it accepts (nginx's defaults where nginx has one). */
import { z } from "zod";

const duration = z.number().int().positive();

export const serverSection = z
  .strictObject({
    host: z.string().min(1).optional(),
    port: z.number().int().min(0).max(65535).optional(),
    bodyLimitBytes: z.number().int().positive().optional(),
    uploadLimitBytes: z.number().int().positive().optional(),
    responseLimitBytes: z.number().int().positive().optional(),
    jsonDepthLimit: z.number().int().min(2).max(1000).optional(),
    headersTimeoutMs: duration.optional(),
    bodyTimeoutMs: duration.optional(),
    requestTimeoutMs: duration.optional(),
    keepAliveTimeoutMs: duration.optional(),
    shutdownGraceMs: duration.optional(),
    cors: z
      .strictObject({
        origins: z
          .array(z.union([z.literal("*"), z.url({ protocol: /^https?$/ }).refine((u) => new URL(u).origin === u.replace(/\/$/, ""), "an origin is scheme://host[:port], without a path")]))
          .min(1)
          .describe("the origins of browser pages that may call the gateway; `*` for any"),
      })
      .optional(),
    tls: z
      .strictObject({
        cert: z.string().min(1).describe("the certificate chain: a PEM file's path, or the PEM text itself (usually `${ENV}`)"),
        key: z.string().min(1).describe("its private key: a PEM file's path, or the PEM text itself"),
      })
      .optional(),
  })
  .default({});
