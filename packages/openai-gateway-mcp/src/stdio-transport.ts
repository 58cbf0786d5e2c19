/**
 * The MCP server's stdio transport: newline-delimited JSON-RPC 2.0, one message a line, read from
 * stdin and written to stdout.
 *
 * Ours rather than the SDK's StdioServerTransport because that one (SDK 1.32), on a line over its
 * 10 MB buffer, first holds the line whole and then closes the transport, so the server exits
 * without a word; and it drops a line that is not JSON, or not JSON-RPC, silently, leaving the
 * client waiting for an answer that never comes. Here a line over the limit is skipped up to its
 * newline without being kept (memory stays bounded by the limit), every refused line is answered
 * as JSON-RPC 2.0 says (-32700 Parse error, -32600 Invalid Request; a notification gets no answer)
 * and reported without quoting it (it may hold a key), and the server goes on serving. The
 * transport closes when stdin ends: the client has gone.
 */
import { fstatSync } from "node:fs";
import { Socket } from "node:net";
import type { Readable, Writable } from "node:stream";
import { DEFAULT_JSON_DEPTH_LIMIT, exceedsJsonDepth } from "@mcpgw/openai-protocol";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from "@modelcontextprotocol/sdk/types.js";

const MB = 1024 * 1024;
/** The SDK's own limit, and the gateway's request body limit: a longer call could not be forwarded anyway. */
export const MAX_LINE_BYTES = 10 * MB;
const NEWLINE = 0x0a;
const READ_BUFFER_BYTES = 64 * 1024;

export interface StdioTransportOptions {
  /** Default: fd 0 (see readStdin). */
  stdin?: Readable;
  stdout?: Writable;
  maxLineBytes?: number;
  maxDepth?: number;
  /** Hears about each refused line, in words that never quote it. */
  onRefused?: (problem: string) => void;
}

export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #stdin: Readable | undefined;
  readonly #stdout: Writable;
  readonly #maxLineBytes: number;
  readonly #maxDepth: number;
  readonly #onRefused: (problem: string) => void;
  #input: { stop(): void } | undefined;
  #closed = false;
  /** The pieces of the line read so far, and their length. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** While a line over the limit is being skipped: its length so far. */
  #skippedBytes: number | undefined;

  constructor(opts: StdioTransportOptions = {}) {
    this.#stdin = opts.stdin;
    this.#stdout = opts.stdout ?? process.stdout;
    this.#maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
    this.#maxDepth = opts.maxDepth ?? DEFAULT_JSON_DEPTH_LIMIT;
    this.#onRefused = opts.onRefused ?? (() => {});
  }

  async start(): Promise<void> {
    if (this.#input) throw new Error("StdioTransport already started");
    const handlers: InputHandlers = {
      bytes: this.#onBytes,
      end: () => void this.close(),
      error: (err) => this.onerror?.(err),
    };
    this.#input = this.#stdin ? readStream(this.#stdin, handlers) : readStdin(handlers);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#input?.stop();
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#skippedBytes = undefined;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.#writeLine(JSON.stringify(message));
  }

  #writeLine(json: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.#stdout.write(`${json}\n`)) resolve();
      else this.#stdout.once("drain", resolve);
    });
  }

  /** `reused`: the bytes sit in a buffer the next read overwrites, so what is kept is copied. */
  #onBytes = (bytes: Buffer, reused: boolean) => {
    for (let start = 0; ; ) {
      const newline = bytes.indexOf(NEWLINE, start);
      this.#take(bytes.subarray(start, newline === -1 ? bytes.length : newline), reused);
      if (newline === -1) return;
      this.#endLine();
      start = newline + 1;
    }
  };

  /** Keeps a piece of the current line, unless the line is (now) over the limit. */
  #take(piece: Buffer, copy: boolean): void {
    if (piece.length === 0) return;
    if (this.#skippedBytes !== undefined) {
      this.#skippedBytes += piece.length;
      return;
    }
    if (this.#pendingBytes + piece.length > this.#maxLineBytes) {
      this.#skippedBytes = this.#pendingBytes + piece.length;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    this.#pending.push(copy ? Buffer.from(piece) : piece);
    this.#pendingBytes += piece.length;
  }

  #endLine(): void {
    if (this.#skippedBytes !== undefined) {
      const skipped = this.#skippedBytes;
      this.#skippedBytes = undefined;
      const limit = describeBytes(this.#maxLineBytes);
      this.#refuse(null, ErrorCode.InvalidRequest, `Invalid Request: the message is larger than the ${limit} limit and was discarded`);
      this.#onRefused(`stdin: discarded a line of ${skipped} bytes, over the ${limit} limit (answered -32600)`);
      return;
    }
    const line = this.#pending.length === 1 ? this.#pending[0]! : Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#handleLine(line.toString("utf8"));
  }

  #handleLine(raw: string): void {
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") return; // a blank line carries no message
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#refuse(null, ErrorCode.ParseError, "Parse error: the line is not JSON");
      this.#onRefused(`stdin: a line of ${text.length} characters that is not JSON (answered -32700)`);
      return;
    }
    const checked = checkMessage(value, this.#maxDepth);
    if (checked.ok) {
      this.onmessage?.(checked.message);
      return;
    }
    if (checked.notification) {
      // JSON-RPC answers no notification, not even a wrong one: stderr is the only place to say it.
      this.#onRefused(`stdin: ignored an invalid notification: ${checked.problem}`);
      return;
    }
    this.#refuse(checked.id, ErrorCode.InvalidRequest, `Invalid Request: ${checked.problem}`);
    this.#onRefused(`stdin: Invalid Request (${checked.problem}), id ${JSON.stringify(checked.id)} (answered -32600)`);
  }

  #refuse(id: RequestId | null, code: ErrorCode, message: string): void {
    void this.#writeLine(JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } }));
  }
}

interface InputHandlers {
  bytes(bytes: Buffer, reused: boolean): void;
  end(): void;
  error(err: Error): void;
}

/**
 * Reads fd 0. When it is a pipe or a socket, as MCP clients start servers, every read lands in one
 * reused buffer (net.Socket's `onread`): the bytes of a line being skipped then allocate nothing,
 * where a stream's fresh chunk per read would pile up as garbage the size of the line until a
 * collection. A terminal or a file falls back to process.stdin's chunks.
 */
function readStdin(handlers: InputHandlers): { stop(): void } {
  const kind = fstatSync(0);
  if (!kind.isFIFO() && !kind.isSocket()) return readStream(process.stdin, handlers);
  const buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  const socket = new Socket({
    fd: 0,
    readable: true,
    writable: false,
    onread: {
      buffer,
      callback: (n: number) => {
        handlers.bytes(buffer.subarray(0, n), true);
        return true; // keep reading
      },
    },
  });
  socket.on("end", handlers.end);
  socket.on("close", handlers.end);
  socket.on("error", handlers.error);
  return { stop: () => socket.destroy() };
}

function readStream(stream: Readable, handlers: InputHandlers): { stop(): void } {
  const onData = (chunk: Buffer | string) => handlers.bytes(typeof chunk === "string" ? Buffer.from(chunk) : chunk, false);
  stream.on("data", onData);
  stream.on("end", handlers.end);
  stream.on("close", handlers.end);
  stream.on("error", handlers.error);
  return {
    stop() {
      stream.off("data", onData);
      stream.off("end", handlers.end);
      stream.off("close", handlers.end);
      stream.off("error", handlers.error);
      // Let the process exit: a flowing stdin would hold it open.
      if (stream.listenerCount("data") === 0) stream.pause();
    },
  };
}

type Checked =
  | { ok: true; message: JSONRPCMessage }
  | { ok: false; problem: string; id: RequestId | null; notification: boolean };

/** Whether a parsed line is one JSON-RPC 2.0 message the SDK can take, and if not, why not and whom to tell. */
export function checkMessage(value: unknown, maxDepth: number): Checked {
  const obj = value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  const id = obj && isUsableId(obj.id) ? obj.id : null;
  // A notification is a request without an id member: one that is wrong still gets no answer.
  const notification = obj !== undefined && typeof obj.method === "string" && !("id" in obj);
  const refuse = (problem: string): Checked => ({ ok: false, problem, id, notification });

  // Before anything walks it: the SDK's schemas and the tools' would recurse into it.
  if (exceedsJsonDepth(value, maxDepth)) return refuse(`the message is nested deeper than ${maxDepth} levels`);
  if (Array.isArray(value)) return refuse("batches (arrays of messages) are not supported");
  if (!obj) return refuse("the message is not a JSON object");
  const parsed = JSONRPCMessageSchema.safeParse(obj);
  if (parsed.success) return { ok: true, message: parsed.data };
  if (obj.jsonrpc !== "2.0") return refuse('"jsonrpc" is not "2.0"');
  if ("method" in obj && typeof obj.method !== "string") return refuse('"method" is not a string');
  if ("id" in obj && !isUsableId(obj.id)) return refuse('"id" is not a string or an integer');
  if ("params" in obj && (obj.params === null || typeof obj.params !== "object" || Array.isArray(obj.params))) {
    return refuse('"params" is not an object');
  }
  if (!("method" in obj || "result" in obj || "error" in obj)) return refuse("the message is neither a request, a notification nor a response");
  return refuse("the message is not a valid JSON-RPC 2.0 request, notification or response");
}

/** MCP's request ids: a string or an integer (JSON-RPC's null is not one). */
function isUsableId(id: unknown): id is RequestId {
  return typeof id === "string" || (typeof id === "number" && Number.isInteger(id));
}

function describeBytes(n: number): string {
  return n % MB === 0 ? `${n / MB} MB` : `${n} bytes`;
}
