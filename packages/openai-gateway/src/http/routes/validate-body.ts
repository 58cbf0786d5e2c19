/** Checks a request body against a zod schema; the first problem becomes a 400 that names the field. */
import type { z } from "zod";
import { badRequest } from "../../errors.ts";

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw badRequest("The request body must be a JSON object.", null, "invalid_body");
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const param = issue.path.join(".");
  // An absent top-level field is missing whatever the issue code (a union such as embeddings' `input` says invalid_union).
  const missing = (body as Record<string, unknown>)[String(issue.path[0])] === undefined;
  const message = missing
    ? `Missing required parameter: '${param}'.`
    : `Invalid value for '${param}': ${issue.message}.`;
  throw badRequest(message, param, missing ? "missing_required_parameter" : "invalid_value");
}
