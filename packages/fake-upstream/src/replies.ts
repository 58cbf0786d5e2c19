/** The answers every route writes the same way: JSON bodies and OpenAI's commonest errors. */
import type { ServerResponse } from "node:http";
import { openAIError } from "./errors.ts";

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export const missing = (param: string) =>
  openAIError(400, `Missing required parameter: '${param}'.`, "missing_required_parameter", param);

export const invalidUrl = (res: ServerResponse, method: string, path: string) =>
  sendJson(res, 404, openAIError(404, `Invalid URL (${method} ${path})`));
