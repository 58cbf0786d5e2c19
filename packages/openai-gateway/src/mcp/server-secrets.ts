/**
 * What an MCP server's configuration holds that no client may see: the values of its credential
 * variables and headers, and credential parameters in its URL. The gateway's scrubber learns them,
 * so a tool that echoes its environment or its request headers does not hand them on.
 */
import { credentialValues, CREDENTIAL_NAME } from "@mcpgw/openai-protocol";
import type { McpServerConfig } from "./clients/types.ts";

export function serverSecrets(server: McpServerConfig): string[] {
  const t = server.transport;
  if (t.type === "stdio") return credentialValues(t.env);
  const url = new URL(t.url);
  const inUrl = [...url.searchParams].filter(([name]) => CREDENTIAL_NAME.test(name)).map(([, value]) => value);
  if (url.password) inUrl.push(decodeURIComponent(url.password));
  return [...credentialValues(t.headers), ...inUrl];
}
