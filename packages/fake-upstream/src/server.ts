import { EventEmitter, once } from "node:events";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BehaviourSchedule, perform, type Behaviour } from "./behaviours.ts";
import { DEFAULT_MODELS } from "./completions.ts";
import { openAIError } from "./errors.ts";
import { isMultipart, parseForm, type RecordedForm } from "./form.ts";
import { sendJson } from "./replies.ts";
import { ResponseStore } from "./response-store.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or undefined when the body was empty, not JSON, or multipart. */
  body: any;
  /** The body as utf8 text (lossy for binary bodies: rawBytes has them exactly). */
  rawBody: string;
  rawBytes: Buffer;
  /** A multipart/form-data body: its text fields, and its files as name, type, size and hash. */
  form?: RecordedForm;
  /** performance.now() when the request arrived. */
  receivedAt: number;
  /** performance.now() when the response closed (finished, reset or abandoned). */
  closedAt?: number;
  /** True when the response closed before it finished: the client left, or a fault cut it. */
  aborted: boolean;
}

export interface FakeUpstreamOptions {
  port?: number;
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  apiKey?: string;
  models?: string[];
}

export interface FakeUpstream {
  url: string;
  origin: string;
  port: number;
  requests: RecordedRequest[];
  enqueue(path: string, ...behaviours: Behaviour[]): void;
  setDefault(path: string, behaviour: Behaviour): void;
  reset(): void;
  waitForRequests(n: number, timeoutMs?: number): Promise<void>;
  waitForClose(req: RecordedRequest, timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The body as the routes read it: multipart as a form, anything else as JSON when it has any. */
async function parseBody(recorded: RecordedRequest, contentType: string | undefined): Promise<boolean> {
  try {
    if (isMultipart(contentType)) recorded.form = await parseForm(recorded.rawBytes, contentType!);
    else if (recorded.rawBody) recorded.body = JSON.parse(recorded.rawBody);
    return true;
  } catch {
    return false;
  }
}

export async function startFakeUpstream(opts: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const models = opts.models ?? DEFAULT_MODELS;
  const requests: RecordedRequest[] = [];
  const schedule = new BehaviourSchedule();
  const responses = new ResponseStore();
  // Emits on every new request and every close, so waiters re-check their condition.
  const changes = new EventEmitter().setMaxListeners(0);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const { method = "GET", headers } = req;
    const recorded: RecordedRequest = {
      method, path, headers, body: undefined, rawBody: "", rawBytes: Buffer.alloc(0), receivedAt: performance.now(), aborted: false,
    };
    const closed = new AbortController();
    res.once("close", () => {
      recorded.closedAt = performance.now();
      recorded.aborted = !res.writableFinished;
      closed.abort();
      changes.emit("change");
    });
    recorded.rawBytes = await readBody(req);
    recorded.rawBody = recorded.rawBytes.toString("utf8");
    const malformed = !(await parseBody(recorded, headers["content-type"]));
    requests.push(recorded);
    changes.emit("change");

    // Auth and parse failures come before any scripted behaviour, as they would upstream.
    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      return sendJson(res, 401, openAIError(401, "Incorrect API key provided.", "invalid_api_key"));
    }
    if (malformed) {
      const what = isMultipart(headers["content-type"]) ? "multipart form" : "JSON body";
      return sendJson(res, 400, openAIError(400, `We could not parse the ${what} of your request.`));
    }
    const x = { req, res, path, body: recorded.body, form: recorded.form, seq: requests.length, signal: closed.signal, models, responses };
    await perform(schedule.next(path), x);
  }

  const server = createServer({ noDelay: true }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.destroyed) return; // The client left mid-body; nothing to answer.
      if (!res.headersSent) sendJson(res, 500, openAIError(500, `fake-upstream: ${String(err)}`));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.listen(opts.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;

  function waitFor<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        changes.off("change", onChange);
        reject(new Error(`fake-upstream: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      function onChange() {
        const value = check();
        if (value === undefined) return;
        clearTimeout(timer);
        changes.off("change", onChange);
        resolve(value);
      }
      changes.on("change", onChange);
      onChange();
    });
  }

  return {
    url: `${origin}/v1`,
    origin,
    port,
    requests,
    enqueue: (path, ...behaviours) => schedule.enqueue(path, behaviours),
    setDefault: (path, behaviour) => schedule.setDefault(path, behaviour),
    /** Forgets the queued behaviours, the recorded requests and the kept responses. */
    reset() {
      schedule.clear();
      responses.clear();
      requests.length = 0; // In place: callers may hold the array.
    },
    waitForRequests: (n, timeoutMs = 5000) =>
      waitFor(() => (requests.length >= n ? true : undefined), timeoutMs, `${n} requests`).then(() => {}),
    waitForClose: (req, timeoutMs = 5000) =>
      waitFor(() => req.closedAt, timeoutMs, `${req.method} ${req.path} to close`),
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.close((err) => (err ? reject(err) : resolve()));
        // Hanging and keep-alive sockets would hold close() open; a fake has nothing to drain.
        server.closeAllConnections();
      }),
  };
}
