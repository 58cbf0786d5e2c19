/**
 * The harness's client side: plain node:http with a keep-alive agent, the same for every
 * contestant, so its own cost cancels out of every "added" figure.
 */
import { Agent, request } from "node:http";

export const CHAT_BODY = JSON.stringify({ model: "bench", messages: [{ role: "user", content: "Say hello in one paragraph." }] });
export const streamBody = (model: string) =>
  JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "Say hello in one paragraph." }] });

export interface Target {
  baseUrl: string;
  headers: Record<string, string>;
}

/** One non-streaming chat completion; resolves with the milliseconds from sending to the last byte. */
export function timedCompletion(agent: Agent, target: Target): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(
      `${target.baseUrl}/chat/completions`,
      { method: "POST", agent, headers: { ...target.headers, "content-type": "application/json", "content-length": Buffer.byteLength(CHAT_BODY) } },
      (res) => {
        let bytes = 0;
        res.on("data", (c: Buffer) => (bytes += c.length));
        res.on("end", () => {
          if (res.statusCode !== 200 || bytes < 100) reject(new Error(`${target.baseUrl}: status ${res.statusCode}, ${bytes} bytes`));
          else resolve(performance.now() - t0);
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(CHAT_BODY);
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
  const body = streamBody(model);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let first = 0;
    let events = 0;
    let coalesced = 0;
    let pending = "";
    const req = request(
      `${target.baseUrl}/chat/completions`,
      { method: "POST", agent, headers: { ...target.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`${target.baseUrl}: stream status ${res.statusCode}`));
        }
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
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Opens a stream that the upstream holds open; resolves once its first event arrives. */
export function openHeldStream(agent: Agent, target: Target): Promise<{ close(): void }> {
  const body = streamBody("bench-hold");
  return new Promise((resolve, reject) => {
    const req = request(
      `${target.baseUrl}/chat/completions`,
      { method: "POST", agent, headers: { ...target.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`held stream status ${res.statusCode}`));
        }
        res.once("data", () => resolve({ close: () => req.destroy() }));
        res.on("error", () => {});
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}
