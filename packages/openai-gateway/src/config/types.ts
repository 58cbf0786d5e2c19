/** The validated, resolved configuration that the rest of the gateway receives. Nothing reads process.env after start. */
export type ProviderType = "openai" | "azure" | "demo";

export interface Provider {
  name: string;
  type: ProviderType;
  /** openai: base URL including /v1; azure: the resource endpoint. */
  baseUrl: string;
  apiKey: string | undefined;
  apiVersion: string;
  headers: Record<string, string>;
}

export interface Target {
  provider: Provider;
  /** The model name sent upstream (the deployment name for Azure). */
  model: string;
}

export interface ClientKey {
  name: string;
  /** sha256 of the key; the key itself is never kept. */
  hash: Buffer;
  /** Model name patterns: exact names, `prefix*`, or `*`. */
  models: string[];
}

export interface Timeouts {
  connectMs: number;
  firstByteMs: number;
  idleMs: number;
  totalMs: number;
}

export interface RetrySettings {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxRetryAfterMs: number;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

export interface GatewayConfig {
  host: string;
  port: number;
  bodyLimitBytes: number;
  shutdownGraceMs: number;
  logLevel: LogLevel;
  providers: Provider[];
  aliases: Map<string, Target[]>;
  passthrough: Provider | undefined;
  clients: ClientKey[];
  timeouts: Timeouts;
  retry: RetrySettings;
  /** True when no upstream is configured and the offline demo model serves instead. */
  demo: boolean;
  /** Every upstream secret, so that error text from upstreams can be scrubbed of them. */
  secrets: string[];
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
