/**
 * The config file's shape (YAML or JSON), checked once at start, one section per file under
 * sections/. Secrets never appear in the file itself: they are `${ENV_NAME}` references,
 * resolved before this schema runs.
 */
import { z } from "zod";
import { chatSection } from "./sections/chat.ts";
import { clientsSection } from "./sections/clients.ts";
import { limitsSection, pricesSection, usageSection } from "./sections/limits.ts";
import { mcpServersSection } from "./sections/mcp-servers.ts";
import { modelsSection, passthroughSection } from "./sections/models.ts";
import { providersSection } from "./sections/providers.ts";
import { serverSection } from "./sections/server.ts";
import { toolsSection } from "./sections/tools.ts";
import { retrySection, timeoutsSection } from "./sections/upstream-behaviour.ts";

export const configFileSchema = z.strictObject({
  server: serverSection,
  providers: providersSection.optional(),
  models: modelsSection,
  passthrough: passthroughSection,
  clients: clientsSection,
  limits: limitsSection,
  prices: pricesSection,
  usage: usageSection,
  timeouts: timeoutsSection,
  retry: retrySection,
  mcpServers: mcpServersSection,
  tools: toolsSection,
  chat: chatSection,
  dataDir: z.string().min(1).optional().describe("where the gateway keeps its files (chat sessions); --data-dir and GATEWAY_DATA_DIR win"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).optional(),
});

export type ConfigFile = z.infer<typeof configFileSchema>;
