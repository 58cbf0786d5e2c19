import type { Readable } from "node:stream";

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface UpstreamResponse {
  statusCode: number;
  headers: UpstreamHeaders;
  body: Readable;
}

export interface UpstreamRequest {
  method: "GET" | "POST";
  /** OpenAI API path below the base URL: /chat/completions, /embeddings, /models. */
  path: string;
  /** The model the target names (Azure puts it in the URL as the deployment). */
  model: string;
  body?: string;
  requestId: string;
  signal: AbortSignal;
}

/** One upstream provider as the forwarder sees it: send one request, get the raw response. */
export interface ProviderClient {
  send(request: UpstreamRequest): Promise<UpstreamResponse>;
}
