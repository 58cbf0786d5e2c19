/**
 * An answer as the terminal shows it: the reply's text as it streams, and each MCP tool call on a
 * line of its own while it runs (`  ⚙ everything/echo …`), finished on that line when nothing came
 * between (`… done 12 ms`, `… failed (timeout) 30001 ms`). Tool lines and notes are dim when the
 * terminal has colours.
 */
import type { ToolCallEvent } from "./session-client.ts";

export interface Style {
  dim(s: string): string;
  prompt(s: string): string;
  error(s: string): string;
}

const plain = (s: string) => s;

export function styleFor(colours: boolean): Style {
  if (!colours) return { dim: plain, prompt: plain, error: plain };
  return {
    dim: (s) => `\x1b[2m${s}\x1b[22m`,
    prompt: (s) => `\x1b[1;36m${s}\x1b[0m`,
    error: (s) => `\x1b[31m${s}\x1b[39m`,
  };
}

/**
 * Control characters out of what the model and the tools wrote: a reply must not move the cursor,
 * retitle the window or rewrite what is already on the screen. Newlines and tabs stay.
 */
export function printable(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, "");
}

export class AnswerView {
  readonly #out: NodeJS.WritableStream;
  readonly #style: Style;
  #atLineStart = true;
  /** The tool call whose start line is the last thing written, waiting for its end on the same line. */
  #openTool: string | undefined;

  constructor(out: NodeJS.WritableStream, style: Style) {
    this.#out = out;
    this.#style = style;
  }

  text(text: string): void {
    const shown = printable(text);
    if (!shown) return;
    // Text goes on where it was, except after a tool call still running on its line.
    if (this.#openTool !== undefined) this.#endLine();
    this.#write(shown);
  }

  tool(e: ToolCallEvent): void {
    const label = printable(e.server && e.tool ? `${e.server}/${e.tool}` : e.name);
    if (e.status === "running") {
      this.#endLine();
      this.#write(this.#style.dim(`  ⚙ ${label} …`));
      this.#openTool = e.id;
      return;
    }
    const outcome = `${e.status === "ok" ? "done" : `failed (${printable(e.status).replaceAll("_", " ")})`}${e.ms === undefined ? "" : ` ${Math.round(e.ms)} ms`}`;
    if (this.#openTool === e.id) {
      this.#openTool = undefined;
      this.#write(this.#style.dim(` ${outcome}`) + "\n");
      return;
    }
    this.#endLine();
    this.#write(this.#style.dim(`  ⚙ ${label} ${outcome}`) + "\n");
  }

  /** A note of the chat's own (`[stopped]`), on a line of its own. */
  note(text: string): void {
    this.#endLine();
    this.#write(this.#style.dim(text) + "\n");
  }

  /** The answer is over: the next prompt starts on a fresh line. */
  end(): void {
    this.#endLine();
  }

  #endLine(): void {
    this.#openTool = undefined;
    if (!this.#atLineStart) this.#write("\n");
  }

  #write(s: string): void {
    this.#out.write(s);
    this.#atLineStart = s.endsWith("\n");
  }
}
