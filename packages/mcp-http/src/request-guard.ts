/**
 * The checks the MCP spec asks of a Streamable HTTP server before anything else, against DNS
 * rebinding: a page on another site must not reach an MCP server on this machine through the
 * browser. The Origin header, when a browser sends one, must be this server's own origin (its Host)
 * or an allowed one (403 otherwise);
 * a server that listens on loopback answers only a Host naming loopback, since any other name in
 * Host means a browser was pointed at it under someone else's domain.
 */
import type { IncomingMessage } from "node:http";

export interface GuardPolicy {
  /** Listening on a loopback address: only loopback Host names are answered. */
  loopback: boolean;
  /** Origins (scheme://host[:port]) whose pages may call the endpoint; empty: none may. */
  allowedOrigins: readonly string[];
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** A 403's reason, or undefined when the request may go on. */
export function refusal(req: IncomingMessage, policy: GuardPolicy): string | undefined {
  if (policy.loopback) {
    const host = req.headers.host;
    if (!host || !LOOPBACK_NAMES.has(hostName(host))) return `Forbidden: this server answers only requests addressed to localhost (Host was '${clip(host ?? "")}').`;
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !sameOrigin(origin, req.headers.host) && !policy.allowedOrigins.includes("*") && !policy.allowedOrigins.includes(normalOrigin(origin))) {
    return `Forbidden: pages of the origin '${clip(origin)}' may not call this server.`;
  }
  return undefined;
}

/** `localhost:3000` -> `localhost`, `[::1]:3000` -> `[::1]`; lowercased. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  const colon = h.lastIndexOf(":");
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** A page this server served itself: its origin names the host and port the request went to. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.trim().toLowerCase();
  } catch {
    return false;
  }
}

function normalOrigin(origin: string): string {
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

/** What a client sent is shown, but never more than a line of it. */
const clip = (s: string) => (s.length > 100 ? `${s.slice(0, 100)}…` : s).replace(/[\x00-\x1f]/g, "");

/** True for the addresses a server can listen on that only this machine reaches. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d+\.\d+\.\d+$/.test(h);
}
