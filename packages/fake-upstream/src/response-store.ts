/**
 * The responses one fake instance has kept (created with store !== false), as OpenAI keeps them:
 * retrievable, deletable, cancellable when created in the background, their input items listable,
 * and their conversation continued by a later previous_response_id. Per instance, so parallel
 * tests never see each other's responses.
 */
import type { Item, ResponseBody } from "./responses.ts";

export interface StoredResponse {
  response: ResponseBody;
  /** Every item the response was given: its chain's items, then its own input, each with an id. */
  inputItems: Item[];
}

// The id prefixes OpenAI gives items of each type.
const PREFIX: Record<string, string> = { message: "msg", function_call: "fc", function_call_output: "fco", reasoning: "rs" };

/** A create's `input` as items with ids: a string is one user message; text content becomes parts. */
export function inputItems(input: unknown, responseId: string): Item[] {
  const list: Item[] = typeof input === "string" ? [{ role: "user", content: input }] : Array.isArray(input) ? input : [];
  return list.map((raw, i) => {
    const type = raw.type ?? (raw.role !== undefined ? "message" : "item");
    const id = raw.id ?? `${PREFIX[type] ?? "item"}_${responseId.replace(/^resp_/, "")}_${i}`;
    if (type !== "message" || typeof raw.content !== "string") return { ...raw, type, id };
    const part = raw.role === "assistant" ? { type: "output_text", text: raw.content, annotations: [] } : { type: "input_text", text: raw.content };
    return { ...raw, type, id, content: [part] };
  });
}

export class ResponseStore {
  #responses = new Map<string, StoredResponse>();
  // Every kept item by id, so an `item_reference` in a later input reads as the item it names.
  #items = new Map<string, Item>();

  save(response: ResponseBody, inputItems: Item[]): void {
    this.#responses.set(response.id, { response, inputItems });
    for (const item of [...inputItems, ...response.output]) if (item.id) this.#items.set(item.id, item);
  }

  get(id: string): StoredResponse | undefined {
    return this.#responses.get(id);
  }

  delete(id: string): boolean {
    return this.#responses.delete(id);
  }

  /** What a response with previous_response_id = id continues: that response's items and its output. */
  conversation(id: string): Item[] | undefined {
    const s = this.#responses.get(id);
    return s && [...s.inputItems, ...s.response.output];
  }

  /** References resolved to the items they name; an unknown reference stays as it came. */
  resolve(items: Item[]): Item[] {
    return items.map((i) => (i.type === "item_reference" && typeof i.id === "string" ? (this.#items.get(i.id) ?? i) : i));
  }

  clear(): void {
    this.#responses.clear();
    this.#items.clear();
  }
}

/** One page of a response's input items, as GET /v1/responses/{id}/input_items lists them. */
export function itemPage(items: Item[], query: URLSearchParams) {
  const limit = Math.min(Math.max(Number(query.get("limit") ?? 20) || 20, 1), 100);
  // OpenAI lists the newest item first unless asked otherwise.
  const ordered = query.get("order") === "asc" ? items : [...items].reverse();
  const after = query.get("after");
  const start = after ? ordered.findIndex((i) => i.id === after) + 1 : 0;
  const data = ordered.slice(start, start + limit);
  return { object: "list", data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < ordered.length };
}
