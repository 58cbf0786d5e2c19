/**
 * The chat in a terminal: a prompt, each line sent as a message, the answer shown as it streams.
 * Ctrl-C during an answer stops that answer and the prompt comes back. At the prompt it behaves as
 * in node's REPL: it clears a line with text; on an empty line it says how to leave, and a second
 * Ctrl-C in a row leaves. `exit`, `quit` and Ctrl-D leave; `/new` starts a new conversation.
 *
 * A line editor exists only while the prompt waits. While an answer runs the terminal stays raw and
 * only Ctrl-C is read from it, so nothing typed lands in the middle of the reply, and Ctrl-C never
 * becomes a SIGINT for the whole process group (npx, which started us, would get it too).
 */
import { createInterface } from "node:readline";
import type { ReadStream, WriteStream } from "node:tty";
import { AnswerView, type Style } from "./answer-view.ts";
import { ChatCliError, errorLine } from "./chat-errors.ts";
import type { SessionClient } from "./session-client.ts";

export interface TerminalIo {
  input: ReadStream;
  output: WriteStream;
  errors: NodeJS.WritableStream;
  style: Style;
  /** The client key, cut out of every error shown. */
  key: string | undefined;
  model: string | undefined;
}

type Prompted = { kind: "line"; line: string } | { kind: "interrupt"; hadText: boolean } | { kind: "end" };

const HISTORY_SIZE = 200;
const LEAVE_WORDS = new Set(["exit", "quit"]);

export async function runTerminal(client: SessionClient, io: TerminalIo): Promise<number> {
  const history: string[] = [];
  const note = (text: string) => io.output.write(io.style.dim(text) + "\n");
  note(`Chatting with ${client.url}${io.model ? ` (model ${io.model})` : ""}. /new starts a new conversation; exit, quit or Ctrl-D leaves.`);
  // Ctrl-C on an empty prompt was the last thing the user did: one more leaves.
  let interrupted = false;
  for (;;) {
    const got = await prompt(io, history);
    if (got.kind === "end") return 0;
    if (got.kind === "interrupt") {
      if (got.hadText) {
        interrupted = false; // The line is cleared, as in the REPL.
        continue;
      }
      if (interrupted) return 0;
      interrupted = true;
      note("(To exit, press Ctrl+C again or Ctrl+D, or type exit)");
      continue;
    }
    interrupted = false;
    const message = got.line.trim();
    if (!message) continue;
    if (LEAVE_WORDS.has(message)) return 0;
    if (message === "/new") {
      client.sessionId = undefined;
      note("(your next message starts a new conversation)");
      continue;
    }
    await answer(client, message, io);
  }
}

/** One line from a fresh line editor: what was typed, a Ctrl-C, or the end of input (Ctrl-D). */
function prompt(io: TerminalIo, history: string[]): Promise<Prompted> {
  const rl = createInterface({
    input: io.input,
    output: io.output,
    terminal: true,
    prompt: io.style.prompt("you>") + " ",
    history: [...history],
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
  });
  return new Promise((resolve) => {
    let settled = false;
    const settle = (p: Prompted) => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(p);
    };
    rl.on("history", (h: string[]) => history.splice(0, history.length, ...h));
    rl.on("line", (line) => settle({ kind: "line", line }));
    rl.on("SIGINT", () => {
      const hadText = rl.line.length > 0;
      io.output.write("\n");
      settle({ kind: "interrupt", hadText });
    });
    rl.on("close", () => {
      if (!settled) io.output.write("\n");
      settle({ kind: "end" });
    });
    rl.prompt();
  });
}

async function answer(client: SessionClient, message: string, io: TerminalIo): Promise<void> {
  const view = new AnswerView(io.output, io.style);
  const stop = new AbortController();
  const unwatch = watchCtrlC(io.input, () => stop.abort());
  try {
    await client.send(message, { onText: (t) => view.text(t), onTool: (e) => view.tool(e) }, stop.signal);
    view.end();
  } catch (err) {
    if (stop.signal.aborted) {
      view.note("[stopped]");
      return;
    }
    view.end();
    let hint = "";
    if (err instanceof ChatCliError && err.detail.status === 404 && err.detail.param === "session_id") {
      // The session expired or the gateway forgot it: going on in a new one is all the user can do.
      client.sessionId = undefined;
      hint = "; your next message starts a new conversation";
    }
    io.errors.write(io.style.error(errorLine(err, io.key) + hint) + "\n");
  } finally {
    unwatch();
  }
}

/** Reads the raw terminal for Ctrl-C while an answer runs; everything else typed is dropped. */
function watchCtrlC(input: ReadStream, onCtrlC: () => void): () => void {
  const onData = (chunk: Buffer | string) => {
    if (typeof chunk === "string" ? chunk.includes("\x03") : chunk.includes(0x03)) onCtrlC();
  };
  input.setRawMode(true);
  input.on("data", onData);
  input.resume();
  return () => {
    input.off("data", onData);
    input.pause();
    input.setRawMode(false);
  };
}
