/** A JSON POST over a keep-alive agent, the client side of the REST and chat tool paths (plain node:http, as in scenario 1). */
import { request, type Agent } from "node:http";

export interface JsonTarget {
  url: string;
  headers: Record<string, string>;
  agent: Agent;
}

/** The parsed answer, or a rejection naming the status and the start of the body. */
export function postJson<T>(to: JsonTarget, body: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const headers = { ...to.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const req = request(to.url, { method: "POST", agent: to.agent, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(parts).toString("utf8");
        if (res.statusCode !== 200) return reject(new Error(`${to.url}: status ${res.statusCode}: ${text.slice(0, 300)}`));
        try {
          resolve(JSON.parse(text) as T);
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}
