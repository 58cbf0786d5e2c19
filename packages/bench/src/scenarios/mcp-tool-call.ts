/**
 * MCP tool-call overhead: chat_completion through openai-gateway-mcp over stdio (then the gateway),
 * against the same request sent straight to the gateway with the openai SDK, interleaved in blocks
 * in one run so both see the same machine.
 *
 * Like for like: without a progressToken (none is passed here) chat_completion makes the plain,
 * non-streaming call with the openai SDK, so the direct side is non-streaming too, with the same
 * body (model, messages, stream: false).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import OpenAI from "openai";

export interface ToolCallOptions {
  /** `node <args>` starts our MCP server. */
  serverArgs: string[];
  gatewayBaseUrl: string;
  clientKey: string;
  model: string;
  calls: number;
  warmup: number;
  /** Calls of one side before switching to the other. */
  block: number;
  cpu: number;
  log(line: string): void;
}

const PROMPT = "Say hello.";

export async function toolCalls(opts: ToolCallOptions): Promise<{ mcp: number[]; direct: number[] }> {
  const messages = [{ role: "user" as const, content: PROMPT }];
  const openai = new OpenAI({ baseURL: opts.gatewayBaseUrl, apiKey: opts.clientKey, maxRetries: 0 });
  const direct = async (): Promise<string> => {
    const c = await openai.chat.completions.create({ model: opts.model, messages, stream: false });
    return c.choices[0]?.message.content ?? "";
  };

  const transport = new StdioClientTransport({
    command: "taskset",
    args: ["-c", String(opts.cpu), process.execPath, ...opts.serverArgs],
    env: {
      PATH: process.env.PATH ?? "",
      GATEWAY_URL: opts.gatewayBaseUrl,
      GATEWAY_API_KEY: opts.clientKey,
      DEFAULT_MODEL: opts.model,
    },
    stderr: "ignore",
  });
  const client = new Client({ name: "mcpgw-bench", version: "0.0.0" });
  await client.connect(transport);
  try {
    // As a real client does: list first (which also arms the SDK's structuredContent validation).
    const { tools } = await client.listTools();
    if (!tools.some((t) => t.name === "chat_completion")) throw new Error("openai-gateway-mcp has no chat_completion tool");

    let expected: string | undefined;
    const viaMcp = async (): Promise<string> => {
      const result = await client.callTool({ name: "chat_completion", arguments: { prompt: PROMPT, model: opts.model } });
      const first = (result.content as Array<{ type: string; text?: string }>)[0];
      if (result.isError) throw new Error(`chat_completion failed: ${first?.text ?? JSON.stringify(result.content)}`);
      if (first?.type !== "text" || !first.text) throw new Error(`chat_completion returned no text: ${JSON.stringify(result.content)}`);
      return first.text;
    };
    const check = (side: string, text: string) => {
      expected ??= text;
      if (text !== expected) throw new Error(`${side} answered differently: '${text.slice(0, 80)}...'`);
    };

    for (let i = 0; i < opts.warmup; i++) {
      check("direct", await direct());
      check("mcp", await viaMcp());
    }
    opts.log(`mcp tool call warm-up done (${opts.warmup} each)`);

    const samples = { mcp: [] as number[], direct: [] as number[] };
    const sides = { mcp: viaMcp, direct };
    let round = 0;
    while (samples.mcp.length < opts.calls || samples.direct.length < opts.calls) {
      const order = round++ % 2 === 0 ? (["mcp", "direct"] as const) : (["direct", "mcp"] as const);
      for (const side of order) {
        const n = Math.min(opts.block, opts.calls - samples[side].length);
        for (let i = 0; i < n; i++) {
          const t0 = performance.now();
          const text = await sides[side]();
          samples[side].push(performance.now() - t0);
          check(side, text);
        }
      }
      opts.log(`mcp tool call ${samples.mcp.length + samples.direct.length}/${opts.calls * 2}`);
    }
    return samples;
  } finally {
    // Closing the transport ends stdin (our server exits on that), then SIGTERM/SIGKILL if it lingers.
    await client.close();
  }
}
