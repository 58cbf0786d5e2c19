/**
 * The fake's Responses API as the official openai SDK sees it: responses kept per instance
 * (retrieve, delete, cancel, input items, previous_response_id) and the scripted tool-calling model,
 * whole and streamed.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";
import OpenAI from "openai";
import { startFakeUpstream, type FakeUpstream } from "../src/index.ts";

let up: FakeUpstream;
let sdk: OpenAI;
before(async () => {
  up = await startFakeUpstream();
  sdk = new OpenAI({ apiKey: "sk-test", baseURL: up.url, maxRetries: 0 });
});
beforeEach(() => up.reset());
after(() => up.close());

const raw = (method: string, path: string, body?: object) =>
  fetch(`${up.url}${path}`, { method, headers: { "content-type": "application/json" }, ...(body ? { body: JSON.stringify(body) } : {}) });

const TOOLS = [{ type: "function" as const, name: "a", parameters: { type: "object" }, strict: false }];

test("kept responses: retrieve, input items (newest first, paged), delete, then 404; store:false is not kept", async () => {
  const created = await sdk.responses.create({ model: "gpt-4o-mini", input: "hello there" });
  assert.equal(created.output_text, "echo: hello there");
  assert.equal(created.status, "completed");
  const again = await sdk.responses.retrieve(created.id);
  assert.deepEqual({ ...again, output_text: undefined }, { ...created, output_text: undefined });

  const items = await sdk.responses.inputItems.list(created.id);
  assert.deepEqual(items.data, [{ type: "message", role: "user", id: "msg_fake_1_0", content: [{ type: "input_text", text: "hello there" }] }]);

  const multi = await sdk.responses.create({ model: "gpt-4o-mini", input: [{ role: "system", content: "s" }, { role: "user", content: "u1" }, { role: "user", content: [{ type: "input_text", text: "u2" }] }] });
  const page = (await (await raw("GET", `/responses/${multi.id}/input_items?limit=2`)).json()) as any;
  assert.deepEqual(page.data.map((i: any) => i.content[0].text), ["u2", "u1"]);
  const n = multi.id.replace("resp_fake_", ""); // Item ids follow their response's: msg_fake_<n>_<index>.
  assert.deepEqual([page.object, page.first_id, page.last_id, page.has_more], ["list", `msg_fake_${n}_2`, `msg_fake_${n}_1`, true]);
  const rest = (await (await raw("GET", `/responses/${multi.id}/input_items?limit=2&after=${page.last_id}`)).json()) as any;
  assert.deepEqual([rest.data.map((i: any) => i.content[0].text), rest.has_more], [["s"], false]);
  const asc = (await (await raw("GET", `/responses/${multi.id}/input_items?order=asc`)).json()) as any;
  assert.deepEqual(asc.data.map((i: any) => i.content[0].text), ["s", "u1", "u2"]);

  const deleted = await raw("DELETE", `/responses/${created.id}`);
  assert.deepEqual(await deleted.json(), { id: created.id, object: "response", deleted: true });
  const gone = await raw("GET", `/responses/${created.id}`);
  assert.equal(gone.status, 404);
  assert.deepEqual(await gone.json(), { error: { message: `Response with id '${created.id}' not found.`, type: "invalid_request_error", param: null, code: null } });
  assert.equal((await raw("DELETE", `/responses/${created.id}`)).status, 404);
  await assert.rejects(sdk.responses.delete(created.id), OpenAI.NotFoundError);

  const unkept = await sdk.responses.create({ model: "gpt-4o-mini", input: "x", store: false });
  assert.equal((unkept as unknown as { store: boolean }).store, false, "echoed, though the SDK's type omits it");
  assert.equal((await raw("GET", `/responses/${unkept.id}`)).status, 404);
  // A streamed response is kept as its response.completed event shows it.
  const stream = await sdk.responses.create({ model: "gpt-4o-mini", input: "streamed one", stream: true });
  let completed: OpenAI.Responses.Response | undefined;
  for await (const e of stream) if (e.type === "response.completed") completed = e.response;
  assert.deepEqual(await (await raw("GET", `/responses/${completed!.id}`)).json(), completed);
});

test("background responses: created in_progress, then completed, cancellable; others are not", async () => {
  const bg = await sdk.responses.create({ model: "gpt-4o-mini", input: "later", background: true });
  assert.deepEqual([bg.status, bg.output, bg.usage, bg.background], ["in_progress", [], null, true]);
  const done = await sdk.responses.retrieve(bg.id);
  assert.equal(done.status, "completed");
  assert.equal(done.output_text, "echo: later");
  assert.equal((await sdk.responses.cancel(bg.id)).status, "cancelled");
  assert.equal((await sdk.responses.retrieve(bg.id)).status, "cancelled");

  const plain = await sdk.responses.create({ model: "gpt-4o-mini", input: "now" });
  const refused = await raw("POST", `/responses/${plain.id}/cancel`);
  assert.equal(refused.status, 400);
  assert.equal(((await refused.json()) as any).error.message, "Only responses created with background=true can be cancelled.");
  assert.equal((await raw("POST", "/responses/resp_nope/cancel")).status, 404);
  assert.equal((await raw("GET", "/responses")).status, 404);
});

test("previous_response_id continues the kept conversation; an unknown one is refused", async () => {
  const first = await sdk.responses.create({ model: "gpt-4o-mini", input: "one two" });
  const second = await sdk.responses.create({ model: "gpt-4o-mini", input: "three", previous_response_id: first.id });
  assert.equal(second.output_text, "echo: three");
  assert.equal(second.previous_response_id, first.id);
  assert.equal(second.usage!.input_tokens, 2 + 3 + 1, "the whole conversation: the first input, its echo, this input");
  const items = await sdk.responses.inputItems.list(second.id, { order: "asc" });
  assert.deepEqual(items.data.map((i: any) => [i.type, i.role, i.content[0].text]), [
    ["message", "user", "one two"],
    ["message", "assistant", "echo: one two"],
    ["message", "user", "three"],
  ]);

  const refused = await raw("POST", "/responses", { model: "gpt-4o-mini", input: "x", previous_response_id: "resp_nope" });
  assert.equal(refused.status, 400);
  assert.deepEqual(await refused.json(), {
    error: { message: "Previous response with id 'resp_nope' not found.", type: "invalid_request_error", param: "previous_response_id", code: "previous_response_not_found" },
  });
});

test("the scripted model in the Responses API: rounds of function calls, then the results; via previous_response_id alike", async () => {
  const script = 'CALL a {"x": "one AND two"} AND b {} THEN CALL c {"n": 1}';
  const user = { role: "user" as const, content: script };
  const first = await sdk.responses.create({ model: "gpt-4o-mini", input: [user], tools: TOOLS });
  assert.deepEqual(first.output, [
    { type: "function_call", id: "fc_1_1", call_id: "call_1_1", name: "a", arguments: '{"x": "one AND two"}', status: "completed" },
    { type: "function_call", id: "fc_1_2", call_id: "call_1_2", name: "b", arguments: "{}", status: "completed" },
  ]);
  const out = (call_id: string, output: string) => ({ type: "function_call_output" as const, call_id, output });
  const round1 = [user, ...(first.output as OpenAI.Responses.ResponseFunctionToolCall[]), out("call_1_1", "r1"), out("call_1_2", "r2")];
  const second = await sdk.responses.create({ model: "gpt-4o-mini", input: round1, tools: TOOLS });
  assert.deepEqual(second.output.map((o: any) => [o.call_id, o.name]), [["call_2_1", "c"]]);
  const third = await sdk.responses.create({ model: "gpt-4o-mini", input: [...round1, ...(second.output as any[]), out("call_2_1", "r3")], tools: TOOLS });
  assert.equal(third.output_text, "done: r1 | r2 | r3");

  // The same turns with the conversation kept upstream: only the outputs are sent.
  const chained1 = await sdk.responses.create({ model: "gpt-4o-mini", input: [out("call_1_1", "r1"), out("call_1_2", "r2")], tools: TOOLS, previous_response_id: first.id });
  assert.deepEqual(chained1.output.map((o: any) => o.name), ["c"]);
  const chained2 = await sdk.responses.create({ model: "gpt-4o-mini", input: [out("call_2_1", "r3")], tools: TOOLS, previous_response_id: chained1.id });
  assert.equal(chained2.output_text, "done: r1 | r2 | r3");

  // Without function tools (a built-in tool does not count) the script can only answer.
  const noTools = await sdk.responses.create({ model: "gpt-4o-mini", input: "CALL a {}", tools: [{ type: "web_search" }] });
  assert.equal(noTools.output_text, "done: ");
  const say = await sdk.responses.create({ model: "gpt-4o-mini", input: [{ role: "user", content: "CALL a {} THEN SAY all good" }, { type: "function_call", call_id: "x", name: "a", arguments: "{}" }, out("x", "r")], tools: TOOLS });
  assert.equal(say.output_text, "all good");
});

test("a streamed scripted call: added, argument deltas split mid-token, done, item done, completed; numbered", async () => {
  const stream = await sdk.responses.create({ model: "gpt-4o-mini", input: 'CALL add {"a":2,"b":3}', tools: TOOLS, stream: true });
  const events: any[] = [];
  for await (const e of stream) events.push(e);
  assert.deepEqual(events.map((e) => e.type), [
    "response.created", "response.in_progress", "response.output_item.added",
    "response.function_call_arguments.delta", "response.function_call_arguments.delta", "response.function_call_arguments.delta",
    "response.function_call_arguments.done", "response.output_item.done", "response.completed",
  ]);
  assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  assert.deepEqual(events[2].item, { type: "function_call", id: "fc_1_1", call_id: "call_1_1", name: "add", arguments: "", status: "in_progress" });
  const deltas = events.filter((e) => e.type === "response.function_call_arguments.delta");
  assert.ok(deltas.every((d) => d.item_id === "fc_1_1" && d.output_index === 0));
  assert.equal(deltas.map((d) => d.delta).join(""), '{"a":2,"b":3}');
  assert.deepEqual([events[6].arguments, events[6].item_id], ['{"a":2,"b":3}', "fc_1_1"]);
  assert.equal(events.at(-1).response.output[0].arguments, '{"a":2,"b":3}');
  assert.equal(events.at(-1).response.usage.output_tokens, 1);
  // The wire has an `event:` line per event, as OpenAI's.
  const text = await (await raw("POST", "/responses", { model: "m", input: "hi", stream: true })).text();
  assert.match(text, /^event: response\.created\ndata: \{/);
});
