import type { Readable } from "node:stream";

export type UpstreamHeaders = Record<string, string | string[] | undefined>;

export interface UpstreamResponse {
  statusCode: number;
  headers: UpstreamHeaders;
  body: Readable;
}

export type UpstreamMethod = "GET" | "POST" | "DELETE";

/**
 * A body that is not JSON (a multipart upload): made anew from where it is kept for each attempt,
 * so a retry or the fallback target sends it again without it ever being held in memory.
 */
export interface StreamBody {
  contentType: string;
  length: number;
  open(): Readable;
}

/** JSON text (or its bytes), or a body streamed from elsewhere. */
export type UpstreamBody = string | Buffer | StreamBody;

export interface UpstreamRequest {
  method: UpstreamMethod;
  /** OpenAI API path below the base URL, with its query if any: /chat/completions, /responses/resp_1/input_items?limit=5. */
  path: string;
  /** The model the target names (Azure puts it in the URL as the deployment). */
  model: string;
  body?: UpstreamBody | undefined;
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
