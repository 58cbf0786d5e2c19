/**
 * The provider clients, built once from the configured providers: one per provider, on one shared
 * keep-alive pool, plus the scrubber that knows every upstream secret. This is the only module that
 * reads keys and credential headers out of the config; what it hands out names providers only.
 */
import { createLearningScrubber, credentialValues, type LearningScrubber } from "@mcpgw/openai-protocol";
import { Agent } from "undici";
import type { ProviderConfig, Timeouts } from "../config/types.ts";
import { createDemoProvider } from "./demo-provider.ts";
import { createHttpProvider } from "./http-provider.ts";
import type { ProviderClient } from "./types.ts";

export interface ProviderClients {
  clients: Map<string, ProviderClient>;
  /** Learns the secrets of MCP servers a reload adds. */
  scrub: LearningScrubber;
  close(): Promise<void>;
}

/** `otherSecrets`: what else nothing relayed may show (the MCP servers' credentials). */
export function createProviderClients(providers: ProviderConfig[], timeouts: Timeouts, otherSecrets: string[] = []): ProviderClients {
  const agent = new Agent({ connectTimeout: timeouts.connectMs, keepAliveTimeout: 30_000 });
  const clients = new Map<string, ProviderClient>(
    providers.map((p) => [p.name, p.type === "demo" ? createDemoProvider(p.name) : createHttpProvider(p, agent, timeouts)]),
  );
  return { clients, scrub: createLearningScrubber([...providers.flatMap(secretsOf), ...otherSecrets]), close: () => agent.close() };
}

/** What a provider sends that nothing relayed back may show: its key and its credential headers. */
function secretsOf(p: ProviderConfig): string[] {
  return [...(p.apiKey ? [p.apiKey] : []), ...credentialValues(p.headers)];
}
