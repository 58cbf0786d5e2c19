/**
 * Turns what an upstream said (an error status and body, an error event in a stream, or a failed
 * connection) into the gateway's error model. Upstream errors keep their status, message, type,
 * param and code, each scrubbed of every secret (providers echo keys: "Incorrect API key provided:
 * sk-...abcd"); an upstream that refuses the gateway's own credentials is the gateway's problem,
 * not the client's: 502 upstream_auth_failed, never a 401 that looks like the client's key failing.
 * Only retry headers pass on, and only when they hold a number or a date.
 */
import { parseJson, readErrorFields, type Scrubber } from "@mcpgw/openai-protocol";
import { GatewayError, upstreamTimeout, upstreamUnreachable } from "../errors.ts";
import type { UpstreamHeaders } from "./types.ts";

export function errorFromUpstream(status: number, bodyText: string, headers: UpstreamHeaders, provider: string, scrub: Scrubber): GatewayError {
  const fields = readErrorFields(parseJson(bodyText));
  // Scrub before shortening: a cut through a key would leave a piece the patterns no longer match.
  const said = fields?.message !== undefined ? scrub.text(fields.message) : scrub.text(bodyText).trim().slice(0, 500);
  if (status === 401 || status === 403) {
    return new GatewayError(502, `Upstream provider '${provider}' rejected the gateway's own credentials (${status})${said ? `: ${said}` : "."}`, {
      code: "upstream_auth_failed",
    });
  }
  if (status < 400) {
    return new GatewayError(502, `Upstream provider '${provider}' answered ${status}, which the gateway does not follow.`, { code: "upstream_bad_response" });
  }
  const passOn = retryHeaders(headers);
  if (fields?.message !== undefined || fields?.code !== undefined || fields?.type !== undefined) {
    return new GatewayError(status, said || `Upstream provider '${provider}' answered ${status}.`, {
      ...(fields.type !== undefined ? { type: scrub.text(fields.type) } : {}),
      code: fields.code !== undefined ? scrub.text(fields.code) : null,
      param: fields.param !== undefined ? scrub.text(fields.param) : null,
      headers: passOn,
    });
  }
  return new GatewayError(status, `Upstream provider '${provider}' answered ${status}${said ? `: ${said}` : "."}`, { headers: passOn });
}

/**
 * An `{"error": ...}` event in a stream. Its status comes from a numeric code (vLLM and others
 * send the HTTP status there); otherwise it counts as the upstream failing (502).
 */
export function errorFromStreamEvent(data: string, provider: string, scrub: Scrubber): GatewayError {
  const fields = readErrorFields(parseJson(data)) ?? {};
  const numeric = Number(fields.code);
  const status = Number.isInteger(numeric) && numeric >= 400 && numeric <= 599 ? numeric : 502;
  const message = fields.message !== undefined ? scrub.text(fields.message) : `Upstream provider '${provider}' reported an error in its stream.`;
  return new GatewayError(status, message, {
    ...(fields.type !== undefined ? { type: scrub.text(fields.type) } : {}),
    code: fields.code !== undefined && status !== numeric ? scrub.text(fields.code) : null,
    param: fields.param !== undefined ? scrub.text(fields.param) : null,
  });
}

const NUMBER = /^\s*\d+(\.\d+)?\s*$/;

/** retry-after-ms and retry-after, when they say how long to wait in a form a client can read. */
function retryHeaders(headers: UpstreamHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const ms = first(headers["retry-after-ms"]);
  if (ms !== undefined && NUMBER.test(ms)) out["retry-after-ms"] = ms.trim();
  const after = first(headers["retry-after"]);
  if (after !== undefined && (NUMBER.test(after) || /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(after.trim()))) {
    out["retry-after"] = after.trim();
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
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
  if (err instanceof GatewayError) return err;
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
