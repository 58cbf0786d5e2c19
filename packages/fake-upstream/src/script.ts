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
 *
 * One core reads the script; the chat and Responses adapters only say what, in their API's
 * conversation, counts as the script, a round, a result and an offered tool.
 */
import { textOf, type ChatRequest } from "./completions.ts";

export interface ScriptedCall {
  id: string;
  name: string;
  arguments: string;
}

export type ScriptedTurn = { calls: ScriptedCall[] } | { text: string };

/** What the core needs from a conversation, whatever the API. */
export interface ScriptState {
  /** The text of the last user message. */
  script: string;
  /** Tool-calling turns since that message. */
  rounds: number;
  /** The tool results since that message, in order. */
  results: string[];
  toolsOffered: boolean;
}

const SCRIPT = /^\s*(CALL|LOOP)\s/;

/** The scripted turn, or undefined when the script is not one. */
export function scriptTurn({ script, rounds, results, toolsOffered }: ScriptState): ScriptedTurn | undefined {
  if (!SCRIPT.test(script)) return undefined;
  const done = { text: `done: ${results.join(" | ")}` };
  // Asked without tools (a gateway's last round after its limit): the model can only answer.
  if (!toolsOffered) return done;

  if (/^\s*LOOP\s/.test(script)) return { calls: parseGroup(script.replace(/^\s*LOOP\s+/, ""), rounds) };
  const steps = script.replace(/^\s*CALL\s+/, "").split(/\s+THEN\s+/);
  const groups = steps.filter((s) => !/^SAY\s/.test(s)).map((s) => s.replace(/^CALL\s+/, ""));
  if (rounds < groups.length) return { calls: parseGroup(groups[rounds]!, rounds) };
  const say = steps.find((s) => /^SAY\s/.test(s));
  return say ? { text: say.replace(/^SAY\s+/, "") } : done;
}

interface Message {
  role?: string;
  content?: unknown;
  tool_calls?: unknown[];
}

/** Chat completions: rounds are assistant messages with tool_calls, results are `tool` messages. */
export function scriptedTurn(req: ChatRequest): ScriptedTurn | undefined {
  const messages = req.messages as Message[];
  const lastUser = findLastIndex(messages, (m) => m.role === "user");
  if (lastUser < 0) return undefined;
  const after = messages.slice(lastUser + 1);
  return scriptTurn({
    script: textOf(messages[lastUser]!.content),
    rounds: after.filter((m) => m.role === "assistant" && Array.isArray(m.tool_calls) && m.tool_calls.length > 0).length,
    results: after.filter((m) => m.role === "tool").map((m) => textOf(m.content)),
    toolsOffered: Array.isArray(req.tools) && req.tools.length > 0,
  });
}

interface Item {
  type?: string;
  role?: string;
  content?: unknown;
  output?: unknown;
}

/**
 * Responses: the conversation is a list of items (a string input is one user message); a round is
 * a run of consecutive function_call items, results are function_call_output items, and only
 * `{type: "function"}` tools count as offered (the model cannot call a built-in tool by script).
 */
export function scriptedResponseTurn(items: Item[], tools: unknown): ScriptedTurn | undefined {
  const isUser = (i: Item) => i.role === "user" && (i.type === undefined || i.type === "message");
  const lastUser = findLastIndex(items, isUser);
  if (lastUser < 0) return undefined;
  const after = items.slice(lastUser + 1);
  const rounds = after.filter((item, i) => item.type === "function_call" && after[i - 1]?.type !== "function_call").length;
  return scriptTurn({
    script: textOf(items[lastUser]!.content),
    rounds,
    results: after.filter((i) => i.type === "function_call_output").map((i) => textOf(i.output)),
    toolsOffered: Array.isArray(tools) && tools.some((t) => (t as { type?: unknown })?.type === "function"),
  });
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


function findLastIndex<T>(xs: T[], pred: (x: T) => boolean): number {
  for (let i = xs.length - 1; i >= 0; i--) if (pred(xs[i]!)) return i;
  return -1;
}
