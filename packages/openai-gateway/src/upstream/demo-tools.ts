/**
 * How the offline demo model uses tools, so `npm start` shows the tool loop without an upstream:
 * offered tools and asked to use one (the user's message names it, e.g. "use echo to say hello"),
 * it calls it with the user's words as the argument; given the tool's result, it answers with it.
 * Deterministic, like the rest of the demo.
 */
interface Message {
  role?: string;
  content?: unknown;
  tool_calls?: unknown[];
}

interface Tool {
  function?: { name?: string; parameters?: { properties?: Record<string, { type?: unknown }>; required?: string[] } };
}

export type DemoTurn = { call: { id: string; name: string; arguments: string } } | { text: string } | undefined;

export function demoToolTurn(messages: Message[], tools: Tool[] | undefined): DemoTurn {
  const last = messages.at(-1);
  if (last?.role === "tool") {
    const results = [];
    for (let i = messages.length - 1; i >= 0 && messages[i]!.role === "tool"; i--) results.unshift(textOf(messages[i]!.content));
    return { text: `[offline demo] The tool answered: ${results.join(" | ").slice(0, 500)}` };
  }
  if (last?.role !== "user" || !tools?.length) return undefined;
  const said = textOf(last.content);
  const words = new Set(said.toLowerCase().split(/[^a-z0-9_-]+/));
  const tool = tools.find((t) => {
    const name = t.function?.name ?? "";
    return words.has(name.toLowerCase()) || words.has((name.split("__").at(-1) ?? "").toLowerCase());
  });
  if (!tool?.function?.name) return undefined;
  const round = messages.filter((m) => m.role === "assistant" && Array.isArray(m.tool_calls)).length;
  return { call: { id: `call_demo_${round + 1}`, name: tool.function.name, arguments: JSON.stringify(argumentsFor(tool, said)) } };
}

/** The user's words for the first string the tool needs; simple values for its other required fields. */
function argumentsFor(tool: Tool, said: string): Record<string, unknown> {
  const schema = tool.function?.parameters ?? {};
  const props = schema.properties ?? {};
  const required = schema.required ?? [];
  const args: Record<string, unknown> = {};
  const firstString = [...required, ...Object.keys(props)].find((k) => props[k]?.type === "string");
  if (firstString) args[firstString] = said;
  for (const k of required) {
    if (k in args) continue;
    const type = props[k]?.type;
    args[k] = type === "number" || type === "integer" ? 1 : type === "boolean" ? true : type === "string" ? said : {};
  }
  return args;
}

/** A message's text: a string, or its text parts joined. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p: { text?: unknown }) => (typeof p?.text === "string" ? p.text : "")).join(" ");
  return "";
}
