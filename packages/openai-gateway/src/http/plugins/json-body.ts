/**
 * Request bodies: `application/json` only (anything else is a 415), read with the limits nginx
 * puts on a body and answered in OpenAI's shape: larger than `bodyLimitBytes` -> 413, nothing for
 * `bodyTimeoutMs` -> 408, invalid JSON -> 400, nested deeper than `jsonDepthLimit` -> 400 (a
 * body 5,000 deep parses, but overflows the stack when it is serialised again for the upstream).
 *
 * A 413 is sent while the client may still be sending. Closing then (Fastify asks for `connection:
 * close` on every body error) would make the kernel reset the connection, and the client would
 * see a network error instead of the 413. So the connection is kept, the rest of the body is read
 * and dropped (nginx's lingering close) for at most LINGER_MS in all and LINGER_IDLE_MS between
 * pieces, and the connection is closed only if the body has not ended by then.
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

export const jsonBody = fp(
  async function jsonBody(app: FastifyInstance, opts: JsonBodyOptions) {
    // Dropping Fastify's parsers makes any other content type a 415.
    app.removeAllContentTypeParsers();
    // Fastify asks for `connection: close` after any body error; a lingering body keeps the
    // connection open until it ends, so the client decides (its own `connection: close` still counts).
    app.addHook("onSend", (request, reply, payload, done) => {
      if (lingering.has(request.raw)) reply.removeHeader("connection");
      done(null, payload);
    });
    app.addContentTypeParser("application/json", (request, payload, done) => {
      readJson(request.raw, opts).then(
        (value) => done(null, value),
        (err: GatewayError) => done(err, undefined),
      );
    });
  },
  { name: "json-body" },
);

function readJson(req: IncomingMessage, opts: JsonBodyOptions): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > opts.bodyLimitBytes) {
      linger(req);
      return reject(tooLarge(opts.bodyLimitBytes));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      clearTimeout(idle);
      req.off("data", onData).off("end", onEnd).off("error", onError);
    };
    const idle = setTimeout(() => {
      stop();
      // The body will not complete: the connection cannot carry another request.
      reject(new GatewayError(408, `The request body stopped arriving: nothing came for ${opts.bodyTimeoutMs / 1000} s.`, {
        code: "request_timeout",
        headers: { connection: "close" },
      }));
    }, opts.bodyTimeoutMs);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > opts.bodyLimitBytes) {
        stop();
        linger(req);
        reject(tooLarge(opts.bodyLimitBytes));
        return;
      }
      chunks.push(chunk);
      idle.refresh();
    };
    const onEnd = () => {
      stop();
      try {
        resolve(parse(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), opts.jsonDepthLimit));
      } catch (err) {
        reject(err);
      }
    };
    const onError = (err: Error) => {
      stop();
      reject(badRequest(`The request body could not be read: ${err.message}`, null, "invalid_body"));
    };
    req.on("data", onData).on("end", onEnd).on("error", onError);
  });
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

const tooLarge = (limit: number) =>
  new GatewayError(413, `The request body is larger than this gateway accepts (${limit} bytes).`, { code: "request_too_large" });

/** Reads and drops what the client still sends after the 413, then closes a connection that has not ended by itself. */
function linger(req: IncomingMessage): void {
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
