/**
 * Open WebUI's tool cards: a `<details type="tool_calls" ...>` block in the assistant's text, which
 * Open WebUI renders as a card with the call's arguments and result (the markup its own tool runner
 * writes). The blocks are for people: when the client sends the conversation back, they are taken
 * out of the assistant messages again, so the model never reads them as text of its own.
 */
const BLOCK = /\n?<details type="tool_calls"[^>]*>[\s\S]*?<\/details>\n?/g;

export function toolCard(call: { id: string; name: string; arguments: string; result: string; error: boolean }): string {
  const args = attr(call.arguments);
  const result = attr(JSON.stringify(call.result));
  return (
    `\n<details type="tool_calls" done="true" id="${attr(call.id)}" name="${attr(call.name)}" arguments="${args}" result="${result}" files="" embeds=""${call.error ? ' error="true"' : ""}>\n` +
    `<summary>Tool Executed</summary>\n</details>\n`
  );
}

/** The same messages with every tool card taken out of assistant text. */
export function withoutToolCards<M extends { role?: unknown; content?: unknown }>(messages: M[]): M[] {
  return messages.map((m) => {
    if (m.role !== "assistant" || typeof m.content !== "string" || !m.content.includes('<details type="tool_calls"')) return m;
    return { ...m, content: m.content.replace(BLOCK, "").trim() };
  });
}

function attr(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/\n/g, "&#10;");
}
