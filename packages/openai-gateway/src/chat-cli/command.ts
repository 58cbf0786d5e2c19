/**
 * `openai-gateway chat [--url http://127.0.0.1:8080] [--key KEY] [--model NAME]`: a chat with the
 * gateway's models and their MCP tools over its /chat API. In a terminal it is interactive (see
 * terminal.ts); with its input from a pipe it answers each line and prints only the replies (see
 * piped.ts). Before anything is read it checks that the gateway is there and takes the key.
 */
import { styleFor } from "./answer-view.ts";
import { ChatCliError, errorLine } from "./chat-errors.ts";
import { runPiped } from "./piped.ts";
import { SessionClient } from "./session-client.ts";
import { runTerminal } from "./terminal.ts";

const DEFAULT_URL = "http://127.0.0.1:8080";

/** Runs the command to its end and answers its exit code: 0, or 1 after one line on stderr. */
export async function runChatCommand(argv: string[], env: Record<string, string | undefined>, version: string): Promise<number> {
  const { default: yargs } = await import("yargs");
  const flags = await yargs(argv)
    .scriptName("openai-gateway chat")
    .usage(
      "$0 [--url URL] [--key KEY] [--model NAME]\n\n" +
        "Chat with the gateway's models and their MCP tools from a terminal. Piped input: each line is a message, and only the replies are printed.",
    )
    .option("url", { type: "string", describe: `The gateway's address [env GATEWAY_URL, default ${DEFAULT_URL}]` })
    // No default from the environment here: --help would print the key.
    .option("key", { type: "string", describe: "Your client key, sent as Authorization: Bearer [env GATEWAY_API_KEY]" })
    .option("model", { type: "string", describe: "The model to chat with (default: the gateway's chat model)" })
    .example("$0 --key $MY_KEY", "chat in the terminal")
    .example("printf 'hello\\nand again\\n' | $0", "two messages in one conversation, the replies on stdout")
    .version(version)
    .strict()
    .help()
    .parseAsync();
  const key = flags.key || env.GATEWAY_API_KEY || undefined;
  const model = flags.model || undefined;
  try {
    const client = new SessionClient({ base: gatewayBase(flags.url || env.GATEWAY_URL || DEFAULT_URL), key, model });
    await client.check();
    const { stdin, stdout, stderr } = process;
    if (stdin.isTTY && stdout.isTTY) {
      // hasColors reads NO_COLOR, FORCE_COLOR and TERM from the environment it is given.
      return await runTerminal(client, { input: stdin, output: stdout, errors: stderr, style: styleFor(stdout.hasColors(env)), key, model });
    }
    // A reader that leaves early (`| head -1`) is no error of ours.
    stdout.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "EPIPE") process.exit(0);
    });
    await runPiped(client, stdin, stdout);
    return 0;
  } catch (err) {
    process.stderr.write(`openai-gateway chat: ${errorLine(err, key)}\n`);
    return 1;
  }
}

/**
 * Where /chat is. The OpenAI base URL (`.../v1`) is what people have at hand, so it is taken too;
 * a gateway behind a proxy under a path keeps that path.
 */
export function gatewayBase(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ChatCliError(`--url: '${url}' is not a URL (e.g. ${DEFAULT_URL})`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new ChatCliError(`--url: '${url}' is not an http or https URL`);
  if (parsed.username || parsed.password) throw new ChatCliError("--url: give the key with --key or GATEWAY_API_KEY, not inside the URL");
  const path = parsed.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  return `${parsed.origin}${path}`;
}
