/** `models` and `passthrough`: the public model names and the upstream targets that serve them. */
import { z } from "zod";

const target = z.union([
  z.string().regex(/^[^/]+\/.+$/, "expected 'provider/model'"),
  z.strictObject({ provider: z.string().min(1), model: z.string().min(1) }),
]);

export const modelsSection = z.record(z.string().min(1), z.union([target, z.array(target).min(1)])).default({});

export const passthroughSection = z.string().optional().describe("Provider that receives model names no alias matches");
