/**
 * The audio API. POST /v1/audio/transcriptions and /v1/audio/translations take multipart forms
 * (the model is a form field): spooled to disk as they arrive, with a body limit of their own
 * (`server.uploadLimitBytes`), then sent on with the target's model, whole or streamed back
 * (`stream=true`, transcript.text.delta events). POST /v1/audio/speech takes JSON and streams the
 * audio back as the upstream sends it (or its SSE events, with stream_format "sse").
 *
 * Registered in a scope of its own: the multipart parser takes the body stream as it is, for these
 * routes only; everywhere else a form is a 415.
 */
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Completions } from "../../../chat/completion.ts";
import { badRequest } from "../../../errors.ts";
import type { Admission } from "../../../limits/admission.ts";
import { multipartBody, spoolUpload } from "../../../upstream/upload-spool.ts";
import { parseBody } from "../validate-body.ts";

const speechRequest = z.looseObject({ model: z.string().min(1), input: z.string().min(1), voice: z.unknown().refine((v) => v !== undefined, "required") });

export async function audioRoutes(
  app: FastifyInstance,
  deps: { completions: Completions; admission: Admission; uploadLimitBytes: number; bodyTimeoutMs: number },
): Promise<void> {
  // The body is left unread here: the route spools it (the upload limit is the route's, not bodyLimit's).
  app.addContentTypeParser("multipart/form-data", (_request, _payload, done) => done(null, undefined));

  for (const path of ["/audio/transcriptions", "/audio/translations"]) {
    app.post(`/v1${path}`, async (request, reply) => {
      if (!/^multipart\/form-data/i.test(request.headers["content-type"] ?? "")) {
        throw badRequest("Send the audio as multipart/form-data, with the model and the file as form fields.", null, "invalid_body");
      }
      const upload = await spoolUpload(request.raw, { limitBytes: deps.uploadLimitBytes, bodyTimeoutMs: deps.bodyTimeoutMs });
      try {
        const field = (name: string) => upload.fields.find(([n]) => n === name)?.[1];
        const model = field("model");
        if (!model) throw badRequest("Missing required parameter: 'model'.", "model", "missing_required_parameter");
        if (!upload.file) throw badRequest("Missing required parameter: 'file'.", "file", "missing_required_parameter");
        // Audio has no tokens to estimate before it is heard: the limits count the request, and what the upstream reports.
        await deps.admission.admit(request, reply, model, { prompt: 0, completion: 0 });
        return await deps.completions.run(request, reply, {
          path,
          model,
          stream: field("stream") === "true",
          clientWantsUsage: true,
          bodyFor: (target) => multipartBody(upload, { model: target.model }),
        });
      } finally {
        await upload.discard();
      }
    });
  }

  app.post("/v1/audio/speech", async (request, reply) => {
    const body = parseBody(speechRequest, request.body);
    await deps.admission.admit(request, reply, body.model, { prompt: Math.ceil(body.input.length / 4), completion: 0 });
    const sse = body.stream_format === "sse";
    return deps.completions.run(request, reply, {
      path: "/audio/speech",
      model: body.model,
      stream: sse,
      raw: !sse,
      clientWantsUsage: true,
      bodyFor: (target) => JSON.stringify({ ...body, model: target.model }),
    });
  });
}
