/**
 * MCP progress for a streaming answer: `notifications/progress` with the characters received so
 * far (monotonic), at most one every PROGRESS_INTERVAL_MS so a fast stream does not flood the
 * client, and a last one when the text is complete.
 */
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";

export const PROGRESS_INTERVAL_MS = 100;

export interface ProgressReporter {
  update(textSoFar: string): void;
  finish(): void;
}

export function progressReporter(extra: RequestHandlerExtra<ServerRequest, ServerNotification>): ProgressReporter | undefined {
  const token = extra._meta?.progressToken;
  if (token === undefined) return undefined;
  let sent = 0;
  let latest = 0;
  let lastAt = 0;
  const send = () => {
    if (latest <= sent) return;
    sent = latest;
    lastAt = performance.now();
    extra
      .sendNotification({
        method: "notifications/progress",
        params: { progressToken: token, progress: sent, message: `${sent} characters received` },
      })
      .catch(() => {
        // the client went away; the call is being cancelled anyway
      });
  };
  return {
    update(textSoFar) {
      latest = textSoFar.length;
      if (performance.now() - lastAt >= PROGRESS_INTERVAL_MS) send();
    },
    finish: send,
  };
}
