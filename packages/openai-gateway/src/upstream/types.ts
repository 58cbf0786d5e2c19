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
  body?: string | undefined;
  requestId: string;
  signal: AbortSignal;
}

/**
 * One upstream provider as the forwarder sees it: send one request, get the raw response. Its key
 * lives inside `send`; nothing here exposes it.
 */
export interface ProviderClient {
  readonly name: string;
  /** Whether to ask this upstream for usage on streams; turned off for good once it rejects the field. */
  streamUsage: boolean;
  send(request: UpstreamRequest): Promise<UpstreamResponse>;
}
