/**
 * The harness's client side: plain node:http with a keep-alive agent, the same for every
 * contestant, so its own cost cancels out of every "added" figure.
 */
import { Agent, request, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

export const CHAT_BODY = JSON.stringify({ model: "bench", messages: [{ role: "user", content: "Say hello in one paragraph." }] });
export const streamBody = (model: string) =>
  JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "Say hello in one paragraph." }] });

export interface Target {
  baseUrl: string;
  headers: Record<string, string>;
}

/** POSTs `body` to the contestant's /chat/completions; a non-200 answer rejects, naming the status. */
function postChat(agent: Agent, target: Target, body: string, onOk: (res: IncomingMessage, req: ClientRequest) => void, reject: (err: Error) => void): void {
  const headers = { ...target.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) };
  // An https baseUrl (direct to the HTTPS upstream) takes an https.Agent that trusts its CA.
  const send = target.baseUrl.startsWith("https:") ? httpsRequest : request;
  const req = send(`${target.baseUrl}/chat/completions`, { method: "POST", agent, headers }, (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      return reject(new Error(`${target.baseUrl}: status ${res.statusCode}`));
    }
    res.on("error", reject);
    onOk(res, req);
  });
  req.on("error", reject);
  req.end(body);
}

/** One non-streaming chat completion; resolves with the milliseconds from sending to the last byte. */
export function timedCompletion(agent: Agent, target: Target, body = CHAT_BODY): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    postChat(agent, target, body, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => (bytes < 100 ? reject(new Error(`${target.baseUrl}: ${bytes} bytes`)) : resolve(performance.now() - t0)));
    }, reject);
  });
}

/** One non-streaming chat completion's answer, whole (to check what a contestant relays, untimed). */
export function completionText(agent: Agent, target: Target, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    postChat(agent, target, body, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve(text));
    }, reject);
  });
}

export interface StreamTiming {
  firstChunkMs: number;
  lastChunkMs: number;
  /** chat.completion.chunk events with choices seen. */
  events: number;
  /** Events that arrived in a read together with an earlier event. */
  coalesced: number;
}

/** One streamed chat completion, timed event by event as the client's reads see them. */
export function timedStream(agent: Agent, target: Target, model: string): Promise<StreamTiming> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    let events = 0;
    let coalesced = 0;
    let pending = "";
    postChat(agent, target, streamBody(model), (res) => {
      res.setEncoding("utf8");
      res.on("data", (text: string) => {
        const parts = (pending + text).split(/\r?\n\r?\n/);
        pending = parts.pop()!;
        let inThisRead = 0;
        for (const event of parts) if (event.includes('"choices":[{')) inThisRead++;
        if (inThisRead > 0 && first === 0) first = performance.now() - t0;
        events += inThisRead;
        if (inThisRead > 1) coalesced += inThisRead - 1;
      });
      res.on("end", () => resolve({ firstChunkMs: first, lastChunkMs: performance.now() - t0, events, coalesced }));
    }, reject);
  });
}

/** Opens a stream that the upstream holds open; resolves once its first event arrives. */
export function openHeldStream(agent: Agent, target: Target): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    postChat(agent, target, streamBody("bench-hold"), (res, req) => {
      res.once("data", () => resolve({ close: () => req.destroy() }));
      // Closing it on purpose later destroys the response too: that is not a failure.
      res.on("error", () => {});
    }, reject);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}
