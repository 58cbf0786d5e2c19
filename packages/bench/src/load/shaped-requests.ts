/**
 * The request bodies of the traffic-shapes scenario: about 100 B (one short question), 4 KB (a
 * system prompt, a few tools, a tool call and its result) and 50 KB (an agent's conversation: twenty
 * tools and many turns of calls and results). Realistic JSON, as a client built on the openai SDK
 * sends it, so that a contestant that parses or re-serialises the body pays what it would pay.
 */
export const REQUEST_BYTES = { "100B": 100, "4KB": 4 * 1024, "50KB": 50 * 1024 } as const;
export type RequestSize = keyof typeof REQUEST_BYTES;

const TOOL_TEMPLATES = [
  ["get_weather", "Get the current weather and a three-day forecast for a city.", { city: "The city name, e.g. Lisbon", unit: "celsius or fahrenheit" }],
  ["search_docs", "Search the product documentation and return the best matching passages with their links.", { query: "What to search for", limit: "How many passages, 1 to 20" }],
  ["create_ticket", "Open a support ticket in the issue tracker and return its id.", { title: "A one-line summary", body: "What happened, in markdown", priority: "low, normal or high" }],
  ["list_files", "List the files in a folder of the user's workspace, with sizes and modification times.", { path: "A folder path relative to the workspace root", recursive: "true to descend" }],
  ["read_file", "Read a text file of the user's workspace; long files are cut at 200 KB.", { path: "A file path relative to the workspace root", offset: "The first line to read" }],
  ["run_sql", "Run a read-only SQL query against the analytics warehouse and return at most 500 rows.", { query: "A SELECT statement", timeout_s: "Seconds before the query is cancelled" }],
  ["send_email", "Send an email on the user's behalf; it is queued and sent within a minute.", { to: "The recipient's address", subject: "The subject line", body: "Plain text" }],
  ["get_calendar", "List the events of the user's calendar between two dates.", { from: "An ISO 8601 date", to: "An ISO 8601 date" }],
  ["translate_text", "Translate a text into another language, keeping its markdown intact.", { text: "The text to translate", target: "A BCP 47 language tag" }],
  ["fetch_url", "Fetch a web page and return its readable text, without scripts or navigation.", { url: "An http or https URL", max_chars: "Where to cut the text" }],
] as const;

function tool(i: number) {
  const [name, description, params] = TOOL_TEMPLATES[i % TOOL_TEMPLATES.length]!;
  const suffix = i < TOOL_TEMPLATES.length ? "" : `_v${Math.floor(i / TOOL_TEMPLATES.length) + 1}`;
  const properties = Object.fromEntries(Object.entries(params).map(([k, d]) => [k, { type: "string", description: d }]));
  return {
    type: "function",
    function: { name: name + suffix, description, parameters: { type: "object", properties, required: Object.keys(params).slice(0, 1), additionalProperties: false } },
  };
}

const SYSTEM =
  "You are a careful assistant for an engineering team. Use the tools when they can answer better than you can from memory; " +
  "say which tool gave which fact. Answer in the user's language, briefly, with lists where they help. Never invent file contents, " +
  "ticket ids or query results: call the tool, or say that you cannot know.";

/** One turn of an agent's work: the user asks, the model calls a tool, the tool answers, the model sums up. */
function turn(i: number, toolCount: number) {
  const t = tool(i % toolCount).function;
  const id = `call_${String(i).padStart(4, "0")}abcdefghijklmnop`;
  const args = JSON.stringify(Object.fromEntries(Object.keys(t.parameters.properties).map((k) => [k, `value ${i} for ${k}`])));
  const result = JSON.stringify({
    ok: true,
    items: Array.from({ length: 4 }, (_, j) => ({ id: `${t.name}-${i}-${j}`, title: `Result ${j + 1} of ${t.name}`, summary: `What ${t.name} found for step ${i}, item ${j + 1}: a line of text as tools return it.` })),
  });
  return [
    { role: "user", content: `Step ${i}: please check this with ${t.name} and tell me what you find.` },
    { role: "assistant", content: null, tool_calls: [{ id, type: "function", function: { name: t.name, arguments: args } }] },
    { role: "tool", tool_call_id: id, content: result },
    { role: "assistant", content: `${t.name} returned four items for step ${i}; the first one answers the question, the others add context.` },
  ];
}

/** The body of `size` for `model`: REQUEST_BYTES[size] bytes (the last question padded to the byte). */
export function requestBody(size: RequestSize, model: string): string {
  if (size === "100B") {
    const shell = (content: string) => JSON.stringify({ model, messages: [{ role: "user", content }] });
    const question = "Say hello in one short sentence, please, and nothing else.";
    return shell(question.slice(0, Math.max(8, REQUEST_BYTES[size] - shell("").length)));
  }
  const toolCount = size === "4KB" ? 3 : 20;
  const tools = Array.from({ length: toolCount }, (_, i) => tool(i));
  const messages: object[] = [{ role: "system", content: SYSTEM }];
  const last = "Now put it all together in five bullet points, and say which step each comes from.";
  const body = (content = last, extra: object[] = []) =>
    JSON.stringify({ model, messages: [...messages, ...extra, { role: "user", content }], tools, tool_choice: "auto", temperature: 0.2, max_tokens: 1024 });
  for (let i = 0; body(last, turn(i, toolCount)).length <= REQUEST_BYTES[size]; i++) messages.push(...turn(i, toolCount));
  const pad = REQUEST_BYTES[size] - body().length;
  return body(last + " Please keep each point short.".repeat(Math.ceil(pad / 30)).slice(0, pad));
}
