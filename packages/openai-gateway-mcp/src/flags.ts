/**
 * The command line: each flag overrides its environment variable. MCP clients almost always start
 * the server with no arguments (settings come in `env`), so yargs, ~90 ms of a ~250 ms cold start,
 * is loaded only when there is something for it to parse.
 */
import { SETTINGS, type RawSettings } from "./settings.ts";
import { VERSION } from "./version.ts";

export async function parseFlags(args: string[]): Promise<RawSettings> {
  if (args.length === 0) return {};
  const { default: yargs } = await import("yargs");
  let cli = yargs(args)
    .scriptName("openai-gateway-mcp")
    .usage(
      "$0 [options]\n\nAn MCP server with tools chat_completion and list_models that call an OpenAI-compatible gateway, on stdio (the default) or over Streamable HTTP (--transport http).\n" +
        "Each option may also be given as the environment variable in brackets; the option wins.",
    )
    .version(VERSION)
    .help()
    .strict();
  for (const spec of Object.values(SETTINGS)) {
    const dflt = "default" in spec ? `, default ${spec.default}` : "";
    cli = cli.option(spec.flag, { type: "string", describe: `${spec.describe} [${spec.env}${dflt}]` });
  }
  const argv = (await cli.parseAsync()) as Record<string, unknown>;
  const flags: RawSettings = {};
  for (const [name, spec] of Object.entries(SETTINGS) as [keyof typeof SETTINGS, (typeof SETTINGS)[keyof typeof SETTINGS]][]) {
    const v = argv[spec.flag];
    if (v !== undefined) flags[name] = String(v);
  }
  return flags;
}
