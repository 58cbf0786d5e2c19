/**
 * What can go wrong between `openai-gateway chat` and the gateway, said in one line the user can
 * act on: the gateway is not there, the key is wrong or missing, the model or session is unknown,
 * or whatever the gateway's OpenAI error body says. Never a stack trace, never the key.
 */
import { parseJson, readErrorFields } from "@mcpgw/openai-protocol";

export const START_HINT = "start it with npx @mcpgw/openai-gateway";
const KEY_HINT = "give one with --key KEY or GATEWAY_API_KEY";

export interface ErrorDetail {
  status?: number;
  param?: string;
  code?: string;
}

export class ChatCliError extends Error {
  override readonly name = "ChatCliError";
  /** The gateway's `param` and `code` for it: the terminal adds a hint by them. */
  readonly detail: ErrorDetail;
  constructor(message: string, detail: ErrorDetail = {}) {
    super(message);
    this.detail = detail;
  }
}

/** A fetch that never got an answer: refused, no such host, TLS, or the connection broke. */
export function unreachable(url: string, err: unknown): ChatCliError {
  if (err instanceof Error && err.name === "TimeoutError") return new ChatCliError(`the gateway at ${url} did not answer in time; is it the gateway? (${START_HINT})`);
  const cause = (err as { cause?: { code?: string; message?: string; errors?: { message?: string }[] } })?.cause;
  // `localhost` tries ::1 and 127.0.0.1: both refusals come as one AggregateError with no message of its own.
  const why = cause?.message || cause?.errors?.[0]?.message || cause?.code || (err as Error)?.message || String(err);
  return new ChatCliError(`cannot reach the gateway at ${url}: ${why}; is it running? ${START_HINT}`);
}

/** A connection that broke after the answer had begun. */
export function brokenOff(err: unknown): ChatCliError {
  const cause = (err as { cause?: { message?: string } })?.cause;
  return new ChatCliError(`the connection to the gateway broke during the answer: ${cause?.message || (err as Error)?.message || String(err)}`);
}

export interface RequestContext {
  url: string;
  keyGiven: boolean;
  model: string | undefined;
  /** The first request: a 404 there means the gateway has no /chat at all. */
  starting: boolean;
}

/** An answer with an error status, read into one line. */
export async function httpFailure(res: Response, ctx: RequestContext): Promise<ChatCliError> {
  const text = await res.text().catch(() => "");
  const fields = readErrorFields(parseJson(text));
  const status = res.status;
  const said = fields?.message ?? (text.trim().slice(0, 200) || res.statusText || "no message");
  const detail = { status, ...(fields?.param ? { param: fields.param } : {}), ...(fields?.code ? { code: fields.code } : {}) };
  if (status === 401) {
    const what = ctx.keyGiven ? `the gateway at ${ctx.url} refused the key (${said}); give the right one with --key KEY or GATEWAY_API_KEY` : `the gateway at ${ctx.url} needs a key (${said}): ${KEY_HINT}`;
    return new ChatCliError(what, detail);
  }
  if (status === 404 && ctx.starting) return new ChatCliError(`the server at ${ctx.url} has no /chat API (404: ${said}); is it an openai-gateway with terminal chat?`, detail);
  if (status === 404 && (fields?.param === "model" || fields?.code === "model_not_found")) {
    return new ChatCliError(`${said}${ctx.model ? " (the model given with --model)" : ""}; choose another with --model NAME`, detail);
  }
  return new ChatCliError(`${said} (HTTP ${status}${fields?.code ? `, ${fields.code}` : ""})`, detail);
}

/** An `event: error` in the answer's stream. */
export function streamFailure(data: unknown): ChatCliError {
  const fields = readErrorFields(data);
  const code = fields?.code ? ` (${fields.code})` : "";
  return new ChatCliError(`the answer failed: ${fields?.message ?? "the gateway gave no reason"}${code}`, { ...(fields?.param ? { param: fields.param } : {}), ...(fields?.code ? { code: fields.code } : {}) });
}

/** The line printed for any error; the key is cut out of it, whatever said it. */
export function errorLine(err: unknown, key: string | undefined): string {
  const message = err instanceof ChatCliError ? err.message : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
  const oneLine = message.replace(/\s*[\r\n]+\s*/g, " ");
  return key ? oneLine.split(key).join("[redacted]") : oneLine;
}
