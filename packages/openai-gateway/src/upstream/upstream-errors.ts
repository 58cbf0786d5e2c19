/**
 * Turns what an upstream said (an error status and body, or a failed connection) into the
 * gateway's error model. Upstream errors keep their status and message, but lose any secret:
 * providers echo keys in messages ("Incorrect API key provided: sk-...abcd").
 */
import { GatewayError, upstreamTimeout, upstreamUnreachable } from "../errors.ts";
import type { UpstreamHeaders } from "./types.ts";

export type Scrub = (text: string) => string;

const KEY_LIKE = /\b(sk|rk|pk)-[A-Za-z0-9_*.-]{6,}/g;

export function createScrubber(secrets: string[]): Scrub {
  const exact = secrets.filter((s) => s.length >= 4);
  return (text) => {
    let out = text;
    for (const s of exact) out = out.split(s).join("[redacted]");
    return out.replace(KEY_LIKE, "[redacted]");
  };
}

const PASSED_ON_HEADERS = ["retry-after", "retry-after-ms"];

export function errorFromUpstream(
  status: number,
  bodyText: string,
  headers: UpstreamHeaders,
  provider: string,
  scrub: Scrub,
): GatewayError {
  const passOn: Record<string, string> = {};
  for (const h of PASSED_ON_HEADERS) {
    const v = headers[h];
    if (typeof v === "string") passOn[h] = v;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    parsed = undefined;
  }
  const err = (parsed as { error?: unknown } | undefined)?.error;
  if (err && typeof err === "object") {
    const e = err as Record<string, unknown>;
    return new GatewayError(status, scrub(String(e.message ?? `Upstream provider '${provider}' answered ${status}.`)), {
      ...(typeof e.type === "string" ? { type: e.type } : {}),
      code: typeof e.code === "string" || typeof e.code === "number" ? String(e.code) : null,
      param: typeof e.param === "string" ? e.param : null,
      headers: passOn,
    });
  }
  // Scrub before shortening: a cut through a key would leave a piece the patterns no longer match.
  const detail = typeof err === "string" ? err : scrub(bodyText).trim().slice(0, 500);
  return new GatewayError(status, scrub(`Upstream provider '${provider}' answered ${status}${detail ? `: ${detail}` : "."}`), {
    headers: passOn,
  });
}

const CONNECTION_REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  UND_ERR_SOCKET: "connection closed by the upstream",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "DNS lookup failed",
  EHOSTUNREACH: "host unreachable",
  ETIMEDOUT: "connection timed out",
  EPIPE: "connection closed by the upstream",
};

// Node's certificate verification codes (DEPTH_ZERO_SELF_SIGNED_CERT, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID...).
const TLS_REJECTED = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

/** A failure with no HTTP status: a timeout (504) or a connection problem (502). Both are retryable. */
export function errorFromException(err: unknown, provider: string): GatewayError {
  const code = (err as { code?: string }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return upstreamTimeout("connect");
    case "UND_ERR_HEADERS_TIMEOUT":
      return upstreamTimeout("time to first byte");
    case "UND_ERR_BODY_TIMEOUT":
      return upstreamTimeout("idle gap between chunks");
  }
  if (code && TLS_REJECTED.test(code)) {
    return upstreamUnreachable(provider, `its TLS certificate was rejected (${code}); a private CA's certificate goes in NODE_EXTRA_CA_CERTS`);
  }
  return upstreamUnreachable(provider, (code && CONNECTION_REASONS[code]) ?? code ?? "request failed");
}
