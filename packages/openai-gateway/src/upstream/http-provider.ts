/**
 * An upstream reached over HTTP through one shared keep-alive pool (undici Agent). Builds the URL
 * and credentials for its provider type; the upstream key lives here and nowhere it could be echoed.
 */
import type { Readable } from "node:stream";
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
    const [path, query] = splitQuery(req.path);
    const search = `?api-version=${encodeURIComponent(provider.apiVersion)}${query ? `&${query}` : ""}`;
    if (path === "/models") return `${basePath}/openai/models${search}`;
    // Azure's Responses API is not per deployment: the deployment is the body's model (and a
    // stored response is found by its id alone).
    if (path === "/responses" || path.startsWith("/responses/")) return `${basePath}/openai${path}${search}`;
    return `${basePath}/openai/deployments/${encodeURIComponent(req.model)}${path}${search}`;
  };

  return {
    name: provider.name,
    streamUsage: provider.streamUsage,
    async send(req): Promise<UpstreamResponse> {
      const headers: Record<string, string> = { ...fixedHeaders, "x-request-id": req.requestId };
      let body: string | Buffer | Readable | null = null;
      if (typeof req.body === "string" || Buffer.isBuffer(req.body)) {
        headers["content-type"] = "application/json";
        body = req.body;
      } else if (req.body) {
        headers["content-type"] = req.body.contentType;
        headers["content-length"] = String(req.body.length);
        body = req.body.open();
      }
      const res = await agent.request({
        origin,
        path: pathFor(req),
        method: req.method,
        headers,
        body,
        signal: req.signal,
        headersTimeout: timeouts.firstByteMs,
        bodyTimeout: timeouts.idleMs,
      });
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    },
  };
}

function splitQuery(path: string): [string, string] {
  const at = path.indexOf("?");
  return at < 0 ? [path, ""] : [path.slice(0, at), path.slice(at + 1)];
}
