/** Which of a server's things a key's grant (`clients[].tools` selectors) lets it use at /mcp/{server}. */
import type { ClientKey } from "../../config/types.ts";

/** The key's grant names some tool of this server: it may open /mcp/{server} at all. */
export function reaches(client: ClientKey, server: string): boolean {
  return client.tools.some((s) => s === "*" || s === server || s.startsWith(`${server}/`));
}

/** The key's grant is the whole server: its prompts, resources and completions too, not only some tools. */
export function wholeServer(client: ClientKey, server: string): boolean {
  return client.tools.some((s) => s === "*" || s === server || s === `${server}/*`);
}
