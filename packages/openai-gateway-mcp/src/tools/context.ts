import type { GatewayClient } from "../gateway-client.ts";
import type { Settings } from "../settings.ts";

export interface ToolContext {
  /** The settings and gateway client, or a ToolFailure naming what is not configured. */
  ready(): { settings: Settings; gateway: GatewayClient };
}
