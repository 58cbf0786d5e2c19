/**
 * POST /v1/completions, /v1/moderations and /v1/images/generations: relayed as chat
 * completions are (keys and model allow-lists, aliases and fallback, the retry rule, timeouts,
 * client disconnect, limits, usage), with the model rewritten per target and every other field
 * passed through untouched. What differs per endpoint is declared here: the fields it needs, whether
 * it streams, and what a request may use (its limits' estimate).
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Completions } from "../../../chat/completion.ts";
import { jsonTokens, type Admission, type Estimate } from "../../../limits/admission.ts";
import { parseBody } from "../validate-body.ts";

type Body = Record<string, unknown> & { model: string; stream?: unknown; stream_options?: { include_usage?: boolean } };

interface Endpoint {
  path: string;
  schema: z.ZodType<Body>;
  estimate(body: Body): Estimate;
  /**
   * On a stream, the gateway asks for usage itself (stream_options.include_usage, stripped again
   * unless the client asked), as text completions take it as chat does.
   */
  addsStreamUsage: boolean;
}

const cap = (...values: unknown[]) => values.find((v): v is number => typeof v === "number" && v > 0);
const model = z.string().min(1);

const ENDPOINTS: Endpoint[] = [
  {
    path: "/completions",
    schema: z.looseObject({ model, prompt: z.union([z.string(), z.array(z.unknown())]) }),
    // The legacy API's own default answer length is 16 tokens.
    estimate: (b) => ({ prompt: jsonTokens(b.prompt), completion: cap(b.max_tokens) ?? 16 }),
    addsStreamUsage: true,
  },
  {
    path: "/moderations",
    schema: z.looseObject({ model: model.optional(), input: z.unknown().refine((v) => v !== undefined, "required") }) as unknown as z.ZodType<Body>,
    estimate: (b) => ({ prompt: jsonTokens(b.input), completion: 0 }),
    addsStreamUsage: false,
  },
  {
    path: "/images/generations",
    schema: z.looseObject({ model: model.optional(), prompt: z.string().min(1) }) as unknown as z.ZodType<Body>,
    estimate: (b) => ({ prompt: jsonTokens(b.prompt), completion: 0 }),
    addsStreamUsage: false,
  },
];

/** OpenAI's defaults for the two endpoints whose model is optional. */
const DEFAULT_MODEL: Record<string, string> = { "/moderations": "omni-moderation-latest", "/images/generations": "dall-e-2" };

export function moreEndpointsRoutes(app: FastifyInstance, deps: { completions: Completions; admission: Admission }): void {
  for (const e of ENDPOINTS) {
    app.post(`/v1${e.path}`, async (request, reply) => {
      const body = parseBody(e.schema, request.body);
      const name = body.model ?? DEFAULT_MODEL[e.path]!;
      await deps.admission.admit(request, reply, name, e.estimate(body));
      const stream = body.stream === true;
      const clientWantsUsage = !e.addsStreamUsage || body.stream_options?.include_usage === true;
      return deps.completions.run(request, reply, {
        path: e.path,
        model: name,
        stream,
        clientWantsUsage,
        bodyFor: (target, { streamUsage }) =>
          JSON.stringify(stream && streamUsage && e.addsStreamUsage ? { ...body, model: target.model, stream_options: { ...body.stream_options, include_usage: true } } : { ...body, model: target.model }),
      });
    });
  }
}
