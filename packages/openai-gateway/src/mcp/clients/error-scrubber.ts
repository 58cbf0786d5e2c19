/**
 * The scrubber of what the registry says about one server (its lastError, its stderr lines, its
 * call failures). It knows more than the gateway-wide scrubber (../server-secrets.ts, which only
 * learns credential-named values, since it also filters answers): every configured env and header
 * value, because an error message is the one place a value the gateway cannot classify must never
 * turn up. The scrubber ignores values too short to be a credential.
 */
import { createScrubber, type Scrubber } from "@mcpgw/openai-protocol";
import { serverSecrets } from "../server-secrets.ts";
import type { McpServerConfig } from "./types.ts";

export function errorScrubber(config: McpServerConfig): Scrubber {
  const t = config.transport;
  const values = Object.values(t.type === "stdio" ? t.env : t.headers);
  return createScrubber([...values, ...serverSecrets(config)]);
}
