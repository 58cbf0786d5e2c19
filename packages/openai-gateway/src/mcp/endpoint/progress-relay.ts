/**
 * A backend's progress for one client request, relayed under the client's own token: in the order
 * it came, scrubbed like everything a backend says, and all of it before the result, since the
 * client's stream ends with the result and a notification sent after it is lost.
 */
import type { Scrubber } from "@mcpgw/openai-protocol";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ProgressToken, ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";

export interface Progress {
  progress: number;
  total?: number | undefined;
  message?: string | undefined;
}

export function progressRelay(extra: RequestHandlerExtra<ServerRequest, ServerNotification>, token: ProgressToken, scrub: Scrubber) {
  let sent = Promise.resolve();
  return {
    send(p: Progress): void {
      sent = sent.then(() => extra.sendNotification({ method: "notifications/progress", params: { ...scrub.json(p), progressToken: token } })).catch(() => {});
    },
    /** Resolves once every notification so far is out: await it before answering. */
    flushed: (): Promise<void> => sent,
  };
}
