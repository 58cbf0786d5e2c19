/**
 * An upstream reached over HTTP through one shared keep-alive pool (undici Agent). Builds the URL
 * and credentials for its provider type; the upstream key lives here and nowhere it could be echoed.
 */
import type { Agent } from "undici";
import type { ProviderConfig, Timeouts } from "../config/types.ts";
import type { ProviderClient, UpstreamRequest, UpstreamResponse } from "./types.ts";

export function createHttpProvider(provider: ProviderConfig, agent: Agent, timeouts: Timeouts): ProviderClient {
  const base = new URL(provider.baseUrl);
  const origin = base.origin;
  const basePath = base.pathname.replace(/\/+$/, "");
  const fixedHeaders: Record<string, string> = { ...provider.headers, accept: "application/json, text/event-stream" };
  if (provider.apiKey) {
    if (provider.type === "azure") fixedHeaders["api-key"] = provider.apiKey;
    else fixedHeaders.authorization = `Bearer ${provider.apiKey}`;
  }

  const pathFor = (req: UpstreamRequest): string => {
    if (provider.type !== "azure") return basePath + req.path;
    const version = `api-version=${encodeURIComponent(provider.apiVersion)}`;
    if (req.path === "/models") return `${basePath}/openai/models?${version}`;
    // Azure's Responses API is not per deployment: the deployment is the body's model.
    if (req.path === "/responses") return `${basePath}/openai/responses?${version}`;
    return `${basePath}/openai/deployments/${encodeURIComponent(req.model)}${req.path}?${version}`;
  };

  return {
    name: provider.name,
    streamUsage: provider.streamUsage,
    async send(req): Promise<UpstreamResponse> {
      const headers: Record<string, string> = { ...fixedHeaders, "x-request-id": req.requestId };
      if (req.body !== undefined) headers["content-type"] = "application/json";
      const res = await agent.request({
        origin,
        path: pathFor(req),
        method: req.method,
        headers,
        body: req.body ?? null,
        signal: req.signal,
        headersTimeout: timeouts.firstByteMs,
        bodyTimeout: timeouts.idleMs,
      });
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    },
  };
}
