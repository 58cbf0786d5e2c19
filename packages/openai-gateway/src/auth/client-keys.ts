/**
 * Client authentication: `Authorization: Bearer <client key>`, checked against sha256 hashes in
 * constant time. Every stored hash is compared on every call, so timing says nothing about which
 * key (if any) nearly matched.
 */
import { timingSafeEqual } from "node:crypto";
import { sha256 } from "../config/load.ts";
import type { ClientKey } from "../config/types.ts";
import { unauthorized } from "../errors.ts";

/** The identity of a request when the gateway runs with no client keys (loopback only). */
export const ANONYMOUS: ClientKey = { name: "anonymous", hash: Buffer.alloc(32), models: ["*"] };

export function createAuthenticator(clients: ClientKey[]): (authorization: string | undefined) => ClientKey {
  if (clients.length === 0) return () => ANONYMOUS;
  return (authorization) => {
    const match = authorization === undefined ? null : /^Bearer\s+(.+)$/i.exec(authorization);
    if (!match) {
      throw unauthorized("Missing API key. Send it as 'Authorization: Bearer <key>'.");
    }
    const presented = sha256(match[1]!.trim());
    let found: ClientKey | undefined;
    for (const client of clients) {
      if (timingSafeEqual(presented, client.hash) && !found) found = client;
    }
    if (!found) throw unauthorized("Incorrect API key provided.");
    return found;
  };
}
