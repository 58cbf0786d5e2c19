#!/usr/bin/env node
import { startFakeUpstream } from "./index.ts";

const USAGE = "usage: fake-upstream [--port N] [--api-key KEY]";

function parseArgs(argv: string[]): { port: number; apiKey?: string } {
  const args: { port: number; apiKey?: string } = { port: 0 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? "").split(/=(.*)/s, 2);
    const value = () => inline ?? argv[++i] ?? "";
    if (flag === "--port") {
      args.port = Number(value());
      if (!Number.isInteger(args.port) || args.port < 0 || args.port > 65535) throw new Error(`bad --port\n${USAGE}`);
    } else if (flag === "--api-key") args.apiKey = value();
    else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  return args;
}

async function main(): Promise<void> {
  const upstream = await startFakeUpstream(parseArgs(process.argv.slice(2)));
  // The only stdout line, so a parent process (tests, benchmarks) can read the URL from it.
  console.log(`fake-upstream listening on ${upstream.url}`);
  const stop = () => void upstream.close().then(() => process.exit(0));
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(`fake-upstream: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
