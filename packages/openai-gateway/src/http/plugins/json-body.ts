/**
 * Request bodies: `application/json` only (anything else is a 415), read with the limits nginx
 * puts on a body and answered in OpenAI's shape: larger than `bodyLimitBytes` -> 413, nothing for
 * `bodyTimeoutMs` -> 408, invalid JSON -> 400, nested deeper than `jsonDepthLimit` -> 400 (a
 * body 5,000 deep parses, but overflows the stack when it is serialised again for the upstream).
 *
 * A 413 is sent while the client may still be sending. Closing then (Fastify asks for `connection:
 * close` on every body error) would make the kernel reset the connection, and the client would
 * see a network error instead of the 413. So the connection is kept (see keepsConnection), the
 * rest of the body is read and dropped (nginx's lingering close) for at most LINGER_MS in all and
 * LINGER_IDLE_MS between pieces, and the connection is closed only if the body has not ended by then.
 *
 * Stalled bodies are found by one sweep every quarter of bodyTimeoutMs over the bodies being read,
 * not by a timer per request: most bodies arrive whole with their headers, and the hot path should
 * not pay for the rare one that stalls.
 *
 * Plain JSON.parse instead of Fastify's prototype-poisoning-safe parser: bodies are only ever read
 * and serialised again, never merged into objects, and this is the hot path.
 *
 * @example
 * app.register(jsonBody, { bodyLimitBytes: 10 << 20, bodyTimeoutMs: 60_000, jsonDepthLimit: 64 });
 */
import type { IncomingMessage } from "node:http";
import { exceedsJsonDepth } from "@mcpgw/openai-protocol";
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { GatewayError, badRequest } from "../../errors.ts";

export interface JsonBodyOptions {
  bodyLimitBytes: number;
  bodyTimeoutMs: number;
  jsonDepthLimit: number;
}

const LINGER_MS = 30_000;
const LINGER_IDLE_MS = 5_000;
const lingering = new WeakSet<IncomingMessage>();

const rawBodies = new WeakMap<IncomingMessage, Buffer>();

/**
 * The request's JSON body as it came, when it parsed: what a route sends upstream unchanged when
 * it changes nothing (see upstream/passthrough-body.ts), instead of serialising the parsed value again.
 */
export const rawJsonOf = (req: IncomingMessage): Buffer | undefined => rawBodies.get(req);

/** Whether a body error's response may keep the connection (its body is being drained): the error handler asks. */
export const keepsConnection = (req: IncomingMessage): boolean => lingering.has(req);

interface Reading {
  lastDataAt: number;
  stall(): void;
}

export const jsonBody = fp(
  async function jsonBody(app: FastifyInstance, opts: JsonBodyOptions) {
    const reading = new Set<Reading>();
    const sweep = setInterval(() => {
      const now = performance.now();
      for (const r of reading) if (now - r.lastDataAt >= opts.bodyTimeoutMs) r.stall();
    }, Math.max(50, Math.floor(opts.bodyTimeoutMs / 4)));
    sweep.unref();
    app.addHook("onClose", async () => clearInterval(sweep));

    // Dropping Fastify's parsers makes any other content type a 415.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser("application/json", (request, _payload, done) => readJson(request.raw, opts, reading, done));
  },
  { name: "json-body" },
);

function readJson(req: IncomingMessage, opts: JsonBodyOptions, reading: Set<Reading>, done: (err: Error | null, body?: unknown) => void): void {
  if (Number(req.headers["content-length"]) > opts.bodyLimitBytes) {
    linger(req);
    return done(tooLarge(opts.bodyLimitBytes));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const stop = () => {
    reading.delete(watch);
    req.off("data", onData).off("end", onEnd).off("error", onError);
  };
  const watch: Reading = {
    lastDataAt: performance.now(),
    stall() {
      stop();
      // The body will not complete: the connection cannot carry another request.
      done(
        new GatewayError(408, `The request body stopped arriving: nothing came for ${opts.bodyTimeoutMs / 1000} s.`, {
          code: "request_timeout",
          headers: { connection: "close" },
        }),
      );
    },
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > opts.bodyLimitBytes) {
      stop();
      linger(req);
      return done(tooLarge(opts.bodyLimitBytes));
    }
    chunks.push(chunk);
    watch.lastDataAt = performance.now();
  };
  const onEnd = () => {
    stop();
    let value: unknown;
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
    try {
      value = parse(bytes, opts.jsonDepthLimit);
    } catch (err) {
      return done(err as GatewayError);
    }
    rawBodies.set(req, bytes);
    done(null, value);
  };
  const onError = (err: Error) => {
    stop();
    done(badRequest(`The request body could not be read: ${err.message}`, null, "invalid_body"));
  };
  reading.add(watch);
  req.on("data", onData).on("end", onEnd).on("error", onError);
}

function parse(body: Buffer, depthLimit: number): unknown {
  if (body.length === 0) throw badRequest("The request body is empty; send a JSON object.", null, "invalid_body");
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch (e) {
    throw badRequest(`We could not parse the JSON body of your request: ${(e as Error).message}`, null, "invalid_json");
  }
  if (exceedsJsonDepth(value, depthLimit)) {
    throw badRequest(`The JSON body is nested deeper than this gateway accepts (${depthLimit} levels).`, null, "json_too_deeply_nested");
  }
  return value;
}

export const tooLarge = (limit: number) =>
  new GatewayError(413, `The request body is larger than this gateway accepts (${limit} bytes).`, { code: "request_too_large" });

/** Reads and drops what the client still sends after the 413, then closes a connection that has not ended by itself. */
export function linger(req: IncomingMessage): void {
  lingering.add(req);
  const socket = req.socket;
  const close = () => socket.destroy();
  const total = setTimeout(close, LINGER_MS);
  const idle = setTimeout(close, LINGER_IDLE_MS);
  req.on("data", () => idle.refresh());
  req.once("end", () => {
    clearTimeout(total);
    clearTimeout(idle);
  });
  socket.once("close", () => {
    clearTimeout(total);
    clearTimeout(idle);
  });
  req.resume();
}
