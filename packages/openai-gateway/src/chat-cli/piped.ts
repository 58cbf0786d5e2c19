/**
 * The chat with its input from a pipe or a file: each line is a message, answered in turn in one
 * session, and only the replies are printed, each followed by a newline, so that the output can be
 * read by another program. Blank lines are skipped; every other line is a message, `exit` too.
 * The first error ends the run (the caller prints it and exits 1).
 */
import { createInterface } from "node:readline";
import { printable } from "./answer-view.ts";
import type { SessionClient } from "./session-client.ts";

export async function runPiped(client: SessionClient, input: NodeJS.ReadableStream, output: NodeJS.WritableStream & { isTTY?: boolean }): Promise<void> {
  // Into a terminal, the reply must not drive it (escape sequences); into a pipe, it is data, as written.
  const shown = output.isTTY ? printable : (s: string) => s;
  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of lines) {
      if (!line.trim()) continue;
      let printed = "";
      const reply = await client.send(line, { onText: (t) => ((printed += t), output.write(shown(t))) });
      // The deltas add up to the reply; should any be missing, the rest is printed from the whole.
      if (reply.startsWith(printed)) output.write(shown(reply.slice(printed.length)));
      output.write("\n");
    }
  } finally {
    lines.close();
  }
}
