/**
 * A scripted tool-calling model, for tests of tool loops. The last user message is the script:
 *
 *   CALL name {json args} [AND name {json}]... [THEN CALL ... ]... [THEN SAY text]
 *   LOOP name {json}            (calls the tool again after every result: a loop without end)
 *
 * Round n (the assistant turns with tool calls since that user message) calls the n-th group of
 * tools (AND: parallel calls in one turn); after the last group it answers in text: the SAY text, or
 * "done: " and the tool results it was given, in order, so a test sees what reached the model.
 * Everything is derived from the request alone: ids are call_<round>_<i>.
 */
import type { ChatRequest } from "./completions.ts";

export interface ScriptedCall {
  id: string;
  name: string;
  arguments: string;
}

export type ScriptedTurn = { calls: ScriptedCall[] } | { text: string };

interface Message {
  role?: string;
  content?: unknown;
  tool_calls?: unknown[];
}

const SCRIPT = /^\s*(CALL|LOOP)\s/;

/** The scripted turn for this request, or undefined when its last user message is not a script. */
export function scriptedTurn(req: ChatRequest): ScriptedTurn | undefined {
  const messages = req.messages as Message[];
  const lastUser = findLastIndex(messages, (m) => m.role === "user");
  if (lastUser < 0) return undefined;
  const script = textOf(messages[lastUser]!.content);
  if (!SCRIPT.test(script)) return undefined;
  const after = messages.slice(lastUser + 1);
  const round = after.filter((m) => m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0).length;
  const results = after.filter((m) => m.role === "tool").map((m) => textOf(m.content));
  const done = { text: `done: ${results.join(" | ")}` };
  // Asked without tools (a gateway's last round after its limit): the model can only answer.
  if (!Array.isArray(req.tools) || req.tools.length === 0) return done;

  if (/^\s*LOOP\s/.test(script)) return { calls: parseGroup(script.replace(/^\s*LOOP\s+/, ""), round) };
  const steps = script.replace(/^\s*CALL\s+/, "").split(/\s+THEN\s+/);
  const groups = steps.filter((s) => !/^SAY\s/.test(s)).map((s) => s.replace(/^CALL\s+/, ""));
  if (round < groups.length) return { calls: parseGroup(groups[round]!, round) };
  const say = steps.find((s) => /^SAY\s/.test(s));
  return say ? { text: say.replace(/^SAY\s+/, "") } : done;
}

/** `name {json} AND name {json}`: the JSON may hold spaces, braces and the word AND inside strings. */
function parseGroup(group: string, round: number): ScriptedCall[] {
  const calls: ScriptedCall[] = [];
  let rest = group.trim();
  while (rest) {
    const name = /^[\w.-]+/.exec(rest)?.[0];
    if (!name) throw new Error(`fake-upstream script: expected a tool name at "${rest.slice(0, 40)}"`);
    rest = rest.slice(name.length).trimStart();
    const json = rest.startsWith("{") ? balancedObject(rest) : "{}";
    calls.push({ id: `call_${round + 1}_${calls.length + 1}`, name, arguments: json });
    rest = rest.slice(rest.startsWith("{") ? json.length : 0).trimStart().replace(/^AND\s+/, "");
  }
  return calls;
}

function balancedObject(text: string): string {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return text.slice(0, i + 1);
  }
  throw new Error(`fake-upstream script: unbalanced JSON in "${text.slice(0, 40)}"`);
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p: { text?: unknown }) => (typeof p?.text === "string" ? p.text : "")).join(" ");
  return "";
}

function findLastIndex<T>(xs: T[], pred: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return i;
  return -1;
}
