/**
 * Client authentication, for every route of the scope it is registered in: `Authorization: Bearer
 * <client key>`, checked against sha256 hashes in constant time before the body is read. Every
 * stored hash is compared on every call, so timing says nothing about which key nearly matched.
 * Without configured keys (loopback only) every request is the anonymous client.
 *
 * @example
 * app.register(async (v1) => {
 *   await v1.register(clientAuth, { clients: config.clients });
 *   v1.get("/v1/models", ...); // request.client is set
 * });
 */
import { timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { sha256 } from "../../config/client-keys.ts";
import type { ClientKey } from "../../config/types.ts";
import { unauthorized } from "../../errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set by clientAuth on the routes it guards. */
    client: ClientKey | undefined;
  }
}

/** The identity of a request when the gateway runs with no client keys (loopback only: whoever calls is its operator, so admin too). */
export const ANONYMOUS: ClientKey = { name: "anonymous", hash: Buffer.alloc(32), models: ["*"], tools: ["*"], admin: true };

// fastify-plugin: the hook applies to the scope that registers this plugin (its routes), not to a child scope of its own.
// `withoutKey`: the identity of a request that sends no Authorization at all (the public docs' viewer);
// without it, such a request is a 401.
export const clientAuth = fp(
  async function clientAuth(app: FastifyInstance, opts: { clients: ClientKey[]; withoutKey?: ClientKey }) {
    const authenticate = createAuthenticator(opts.clients);
    if (!app.hasRequestDecorator("client")) app.decorateRequest("client", undefined);
    app.addHook("onRequest", (request, _reply, done) => {
      try {
        const authorization = request.headers.authorization;
        request.client = authorization === undefined && opts.withoutKey ? opts.withoutKey : authenticate(authorization);
      } catch (err) {
        return done(err as Error);
      }
      done();
    });
  },
  { name: "client-auth" },
);

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
