/**
 * A workaround for the MCP SDK's client (1.32): it runs a notification's handler a microtask after
 * the message arrives, but a response at once, and a response removes its request's progress
 * handler. A server's last notifications/progress, sent just before its result (as servers do),
 * then finds no handler and is dropped: a client of ours would never see "4 of 4". Delivering each
 * response one microtask later puts it behind the notifications that arrived before it, which is
 * the order the server sent them in (typescript-sdk #2580; server-session.ts still drops the SDK's
 * "unknown token" complaint, should another path reach it).
 */
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";

/** Call after the client has connected (the SDK sets transport.onmessage in connect). */
export function responsesAfterNotifications(transport: Transport): void {
  const deliver = transport.onmessage;
  if (!deliver) return;
  transport.onmessage = (message, extra) => {
    const isResponse = "id" in message && ("result" in message || "error" in message);
    if (isResponse) queueMicrotask(() => deliver(message, extra));
    else deliver(message, extra);
  };
}
