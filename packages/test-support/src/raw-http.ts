/**
 * HTTP/1.1 at the socket level, for what fetch and the SDK cannot send: a request without Host,
 * a broken request line, a body that stalls, a body far over the limit written in full. It keeps
 * every byte the server sent and notes how the connection ended (closed cleanly, reset, or still
 * open when the test gave up), which is what separates a 413 a client can read from a network error.
 */
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";

export interface RawExchange {
  /** NaN when nothing parseable came back. */
  status: number;
  headers: Record<string, string>;
  body: string;
  /** How the connection ended: "close" (FIN), "reset" (ECONNRESET/EPIPE) or "timeout" (still open). */
  ended: "close" | "reset" | "timeout";
  /** The socket error, when there was one. */
  error?: string;
  /** Milliseconds from connect to the first byte of the answer. */
  firstByteMs: number | undefined;
}

export interface RawOptions {
  /** Written first (request line and headers, perhaps part of a body). */
  head: string | Buffer;
  /** Written after `head`, piece by piece, each once the previous one is accepted by the socket. */
  body?: Buffer[];
  /** Give up after this long, keeping what arrived. */
  timeoutMs?: number;
  /** Stop at the first complete answer (headers plus content-length bytes) instead of waiting for the close. */
  untilAnswer?: boolean;
  tls?: { ca: string | Buffer; servername?: string };
}

export function rawExchange(origin: string, opts: RawOptions): Promise<RawExchange> {
  const { hostname, port } = new URL(origin);
  const start = performance.now();
  return new Promise((resolve) => {
    const socket = opts.tls
      ? tlsConnect({ host: hostname, port: Number(port), ca: opts.tls.ca, servername: opts.tls.servername ?? "localhost" })
      : connect(Number(port), hostname);
    const received: Buffer[] = [];
    let firstByteMs: number | undefined;
    let done = false;
    let error: string | undefined;
    const finish = (ended: RawExchange["ended"]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parse(Buffer.concat(received)), ended, firstByteMs, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish("timeout"), opts.timeoutMs ?? 10_000);
    socket.on("data", (d: Buffer) => {
      firstByteMs ??= performance.now() - start;
      received.push(d);
      if (opts.untilAnswer && complete(Buffer.concat(received))) finish("close");
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      error = err.code ?? err.message;
      finish(err.code === "ECONNRESET" || err.code === "EPIPE" ? "reset" : "close");
    });
    socket.on("close", () => finish("close"));
    socket.once(opts.tls ? "secureConnect" : "connect", async () => {
      socket.write(opts.head);
      for (const piece of opts.body ?? []) {
        if (done || socket.destroyed) return;
        if (!socket.write(piece)) await new Promise((r) => socket.once("drain", r));
      }
    });
  });
}

function split(bytes: Buffer): { head: string; body: Buffer } | undefined {
  const end = bytes.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  return { head: bytes.subarray(0, end).toString("latin1"), body: bytes.subarray(end + 4) };
}

function complete(bytes: Buffer): boolean {
  const parts = split(bytes);
  if (!parts) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(parts.head)?.[1];
  return length !== undefined && parts.body.length >= Number(length);
}

function parse(bytes: Buffer): Pick<RawExchange, "status" | "headers" | "body"> {
  const parts = split(bytes);
  if (!parts) return { status: Number.NaN, headers: {}, body: bytes.toString("utf8") };
  const [statusLine = "", ...lines] = parts.head.split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = headers["content-length"];
  const body = length === undefined ? parts.body : parts.body.subarray(0, Number(length));
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]), headers, body: body.toString("utf8") };
}
