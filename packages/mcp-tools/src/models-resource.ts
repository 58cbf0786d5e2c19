/**
 * The resource `models://list`: the models the gateway key may use, as JSON, for clients that
 * attach resources to a conversation. A client may subscribe to it: while any subscription is
 * open the list is read again every minute, and a change is announced (notifications/resources/updated).
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import type { ModelNames } from "./model-names.ts";

export const MODELS_URI = "models://list";
const WATCH_MS = 60_000;

export function registerModelsResource(server: McpServer, models: ModelNames): { close(): void } {
  server.registerResource(
    "models",
    MODELS_URI,
    { title: "Models", description: "The models this gateway key may use, with their owners", mimeType: "application/json" },
    async (uri) => {
      const list = await models.list(true);
      return { contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify({ models: list }, null, 2) }] };
    },
  );

  let watch: NodeJS.Timeout | undefined;
  let seen: string | undefined;
  const stop = () => {
    clearInterval(watch);
    watch = undefined;
  };
  server.server.registerCapabilities({ resources: { subscribe: true } });
  server.server.setRequestHandler(SubscribeRequestSchema, async (request) => {
    if (request.params.uri === MODELS_URI && !watch) {
      seen = await idsOf(models);
      watch = setInterval(async () => {
        const now = await idsOf(models);
        if (now === undefined || now === seen) return;
        seen = now;
        await server.server.sendResourceUpdated({ uri: MODELS_URI }).catch(() => stop());
      }, WATCH_MS).unref();
    }
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
    if (request.params.uri === MODELS_URI) stop();
    return {};
  });
  return { close: stop };
}

/** The list as one comparable string, or undefined when the gateway cannot say just now. */
async function idsOf(models: ModelNames): Promise<string | undefined> {
  try {
    return (await models.list(true)).map((m) => m.id).sort().join("\n");
  } catch {
    return undefined;
  }
}
