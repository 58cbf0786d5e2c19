/**
 * A multipart/form-data upload (an audio file to transcribe), read as it arrives and spooled to a
 * private temporary file, so a 25 MB upload costs the gateway a few buffers of memory, not 25 MB.
 * The spool is what lets the gateway rewrite the `model` field (the form may send it after the
 * file) and send the body again on a retry or to a fallback target.
 *
 * Over `limitBytes` (by its Content-Length, or counted as it arrives) the upload is refused with a
 * 413 at once, before the rest is read: the rest is drained and dropped, as for JSON bodies, so the
 * client reads the 413. Parsing is busboy's (the parser @fastify/multipart uses); the body sent
 * upstream is encoded here, because undici's FormData does not stream a file from disk.
 */
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import busboy from "busboy";
import { GatewayError, badRequest } from "../errors.ts";
import { linger, tooLarge } from "../http/plugins/json-body.ts";
import type { StreamBody } from "./types.ts";

export interface Upload {
  /** The form's text fields in their order (repeated names kept). */
  fields: [string, string][];
  file: { field: string; filename: string; contentType: string; path: string; size: number } | undefined;
  /** Removes the spooled file. */
  discard(): Promise<void>;
}

const FIELD_LIMIT_BYTES = 64 * 1024;
const MAX_FIELDS = 64;

export function spoolUpload(req: IncomingMessage, opts: { limitBytes: number; bodyTimeoutMs: number }): Promise<Upload> {
  if (Number(req.headers["content-length"]) > opts.limitBytes) {
    linger(req);
    return Promise.reject(tooLarge(opts.limitBytes));
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1, fields: MAX_FIELDS, fieldSize: FIELD_LIMIT_BYTES, parts: MAX_FIELDS + 1 } });
  } catch (err) {
    return Promise.reject(badRequest(`The multipart body cannot be read: ${(err as Error).message}.`, null, "invalid_body"));
  }
  const fields: [string, string][] = [];
  let file: Upload["file"];
  let writing: Promise<void> = Promise.resolve();
  // Stops a spool being written (the upload was refused): its pipeline settles, and the file can go.
  let stopWriting = () => {};
  const discard = async () => {
    await writing.catch(() => {});
    if (file) await rm(file.path, { force: true });
  };

  return new Promise<Upload>((resolve, reject) => {
    let settled = false;
    let received = 0;
    const fail = (error: GatewayError, { lingering = false } = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      req.unpipe(parser);
      parser.removeAllListeners();
      parser.on("error", () => {});
      stopWriting();
      if (lingering) linger(req);
      else req.resume();
      void discard().finally(() => reject(error));
    };
    const stall = setTimeout(
      () => fail(new GatewayError(408, `The request body stopped arriving: nothing came for ${opts.bodyTimeoutMs / 1000} s.`, { code: "request_timeout", headers: { connection: "close" } })),
      opts.bodyTimeoutMs,
    );
    req.on("data", (chunk: Buffer) => {
      received += chunk.length;
      stall.refresh();
      if (received > opts.limitBytes) fail(tooLarge(opts.limitBytes), { lingering: true });
    });
    req.on("error", () => fail(badRequest("The request body could not be read.", null, "invalid_body")));
    parser.on("field", (name, value, info) => {
      if (info.valueTruncated) return fail(badRequest(`The form field '${name.slice(0, 64)}' is longer than ${FIELD_LIMIT_BYTES} bytes.`, name.slice(0, 64)));
      fields.push([name, value]);
    });
    parser.on("file", (field, stream, info) => {
      if (file) {
        stream.resume();
        return;
      }
      const path = join(tmpdir(), `mcpgw-upload-${randomBytes(12).toString("hex")}`);
      file = { field, filename: info.filename ?? "file", contentType: info.mimeType || "application/octet-stream", path, size: 0 };
      const spooled = file;
      stream.on("data", (chunk: Buffer) => {
        spooled.size += chunk.length;
      });
      // wx and 0600: a fresh file nobody else can read (the audio is the client's data).
      writing = pipeline(stream, createWriteStream(path, { flags: "wx", mode: 0o600 }));
      stopWriting = () => stream.destroy();
      writing.catch(() => fail(new GatewayError(500, "The upload could not be stored while it was forwarded.", { code: "upload_spool_failed" })));
    });
    parser.on("filesLimit", () => fail(badRequest("Send one file per request.", "file")));
    parser.on("fieldsLimit", () => fail(badRequest(`The form has more than ${MAX_FIELDS} fields.`, null)));
    parser.on("partsLimit", () => fail(badRequest(`The form has more than ${MAX_FIELDS + 1} parts.`, null)));
    parser.on("error", (err: Error) => fail(badRequest(`The multipart body cannot be read: ${err.message}.`, null, "invalid_body")));
    parser.on("close", () => {
      void writing.then(
        () => {
          if (settled) return;
          settled = true;
          clearTimeout(stall);
          resolve({ fields, file, discard });
        },
        () => {},
      );
    });
    req.pipe(parser);
  });
}

/** The form encoded again for one target (its model in the `model` field), the file streamed from the spool. */
export function multipartBody(upload: Upload, replace: Record<string, string>): StreamBody {
  const boundary = `----mcpgw-${randomBytes(16).toString("hex")}`;
  const fields = upload.fields.map(([name, value]) => [name, Object.hasOwn(replace, name) ? replace[name]! : value] as const);
  let head = "";
  for (const [name, value] of fields) head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"\r\n\r\n${value}\r\n`;
  const file = upload.file;
  if (file) {
    head += `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(file.field)}"; filename="${quoted(file.filename)}"\r\nContent-Type: ${file.contentType.replace(/[\r\n]/g, "")}\r\n\r\n`;
  }
  const tail = `${file ? "\r\n" : ""}--${boundary}--\r\n`;
  const headBytes = Buffer.from(head);
  const tailBytes = Buffer.from(tail);
  return {
    contentType: `multipart/form-data; boundary=${boundary}`,
    length: headBytes.length + (file?.size ?? 0) + tailBytes.length,
    open: () =>
      Readable.from(
        (async function* () {
          yield headBytes;
          if (file) yield* createReadStream(file.path);
          yield tailBytes;
        })(),
        { objectMode: false },
      ),
  };
}

/** A name inside a quoted header parameter, escaped as the HTML standard encodes form data. */
function quoted(value: string): string {
  return value.replace(/\r/g, "%0D").replace(/\n/g, "%0A").replace(/"/g, "%22");
}
