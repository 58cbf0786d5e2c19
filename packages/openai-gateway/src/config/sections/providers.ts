/**
 * `providers`: the upstreams and their credentials. Extra headers are checked here, at start,
 * against what the HTTP client will send: a header it refuses would fail every request at run
 * time, and a credential header beside `apiKey` would send two credentials.
 */
import { validateHeaderName, validateHeaderValue } from "node:http";
import { z } from "zod";

/** Headers undici refuses, or that the gateway sets itself for every request. */
const FORBIDDEN_HEADERS = new Set([
  "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer", "proxy-connection",
  "expect", "content-length", "content-type",
]);

const provider = z
  .strictObject({
    type: z.enum(["openai", "azure"]).default("openai").describe(
      "openai: any OpenAI-compatible base URL (OpenAI, Ollama, vLLM, OpenRouter, LM Studio); azure: Azure OpenAI",
    ),
    baseUrl: z.url({ protocol: /^https?$/ }).describe(
      "openai: the base URL including /v1; azure: the resource endpoint, e.g. https://NAME.openai.azure.com",
    ),
    apiKey: z.string().min(1).optional().describe("Upstream key, usually `${ENV_NAME}`; omit for keyless local servers"),
    apiVersion: z.string().min(1).default("2024-10-21").describe("azure only: the api-version query parameter"),
    headers: z.record(z.string(), z.string()).optional().describe("Extra headers sent to this upstream"),
    streamUsage: z.boolean().default(true).describe("ask this upstream for usage on streams (stream_options.include_usage)"),
  })
  .superRefine((p, ctx) => {
    const credential = p.type === "azure" ? "api-key" : "authorization";
    for (const [name, value] of Object.entries(p.headers ?? {})) {
      const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["headers", name], message });
      try {
        validateHeaderName(name);
      } catch {
        issue("not a valid header name");
        continue;
      }
      const lower = name.toLowerCase();
      if (FORBIDDEN_HEADERS.has(lower)) issue(`'${name}' is set by the gateway's HTTP client itself and cannot be configured`);
      else if (lower === credential && p.apiKey !== undefined) {
        issue(`apiKey already sends ${p.type === "azure" ? "'api-key'" : "'Authorization: Bearer'"}; give the credential once (apiKey, or this header without apiKey)`);
      }
      try {
        validateHeaderValue(name, value);
      } catch {
        issue("the value holds a character a header cannot carry (a line break or control character)");
      }
    }
  });

export const providersSection = z.record(z.string().regex(/^[\w.-]+$/), provider).refine((p) => Object.keys(p).length > 0, {
  message: "at least one provider is required",
});
