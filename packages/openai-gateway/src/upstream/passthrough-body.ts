/**
 * A JSON request body sent upstream as the client's own bytes when the gateway changes nothing in
 * it but what can be spliced in: serialising the parsed value again costs as much as the rest of
 * the hot path on a long conversation (about 90 µs for 50 KB), and a bare proxy pays nothing.
 *
 * The bytes go as they came when the target's model is the client's (a passthrough name, or an
 * alias whose target keeps the name). When the gateway asks for a stream's usage and the client
 * sent no stream_options at all, `"stream_options":{"include_usage":true},` is put after the
 * opening brace (no duplicate key can arise: the field was absent). Anything else (an alias that
 * renames the model, stream_options to amend) is serialised from the parsed value as before.
 *
 * The gateway validated the parsed value, and JSON.parse keeps the last of duplicate keys, as the
 * upstreams' parsers do: what it checked is what the upstream reads.
 */
import type { IncomingMessage } from "node:http";
import { rawJsonOf } from "../http/plugins/json-body.ts";

const STREAM_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

export function passthroughBody(req: IncomingMessage, body: Record<string, unknown>, targetModel: string, opts: { addStreamUsage: boolean }): Buffer | undefined {
  if (targetModel !== body.model) return undefined;
  const raw = rawJsonOf(req);
  if (!raw) return undefined;
  if (!opts.addStreamUsage) return raw;
  if ("stream_options" in body) return undefined;
  const brace = raw.indexOf(0x7b); // "{": the body is an object (validated), so its first non-blank byte
  return Buffer.concat([raw.subarray(0, brace + 1), STREAM_USAGE, raw.subarray(brace + 1)]);
}
