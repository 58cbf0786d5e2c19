/**
 * Which messages of a session go when it holds more than maxMessages: whole turns, oldest first (a
 * turn is a user message and everything up to the next one: an assistant's tool calls without their
 * results would be refused by every upstream), never the system messages at its start, and never
 * the latest turn, however long it is.
 */
export interface StoredRole {
  seq: number;
  role: string;
}

/** The seqs to delete so that at most `max` messages stay (fewer only where a turn is whole). */
export function seqsToDrop(messages: StoredRole[], max: number): number[] {
  if (messages.length <= max) return [];
  let head = 0;
  while (head < messages.length && messages[head]!.role === "system") head++;
  // Turn starts after the leading system messages; the last one is never dropped.
  const starts: number[] = [];
  for (let i = head; i < messages.length; i++) if (messages[i]!.role === "user") starts.push(i);
  const drop: number[] = [];
  let kept = messages.length;
  // Messages before the first user turn (an answer whose question was trimmed already) go first.
  let from = head;
  for (const next of [...starts.slice(1), Infinity]) {
    if (kept <= max || next === Infinity) break;
    const to = Math.min(next, messages.length);
    for (let i = from; i < to; i++) drop.push(messages[i]!.seq);
    kept -= to - from;
    from = to;
  }
  return drop;
}
