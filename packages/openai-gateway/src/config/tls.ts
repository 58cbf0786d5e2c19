/**
 * `server.tls`: each of cert and key is a PEM file's path or the PEM text itself (usually through
 * `${ENV}`). Both are read and checked against each other at start, so a wrong pair stops the start
 * with a message that names the field and never shows the key.
 */
import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { ConfigError, type ServerSettings } from "./types.ts";

export function readTls(tls: { cert: string; key: string } | undefined): ServerSettings["tls"] {
  if (!tls) return undefined;
  const pair = { cert: pem(tls.cert, "server.tls.cert"), key: pem(tls.key, "server.tls.key") };
  try {
    createSecureContext(pair);
  } catch (e) {
    // OpenSSL's own reason ("key values mismatch", "no start line"), never the PEM text.
    const reason = (e as Error).message.replace(/-----BEGIN[\s\S]*/, "").trim();
    throw new ConfigError(`server.tls: the certificate and key cannot be used together: ${reason}`);
  }
  return pair;
}

function pem(value: string, field: string): string {
  if (value.includes("-----BEGIN ")) return value;
  try {
    return readFileSync(value, "utf8");
  } catch (e) {
    throw new ConfigError(`${field}: cannot read ${value}: ${(e as NodeJS.ErrnoException).code ?? String(e)} (give a PEM file's path or the PEM text)`);
  }
}
