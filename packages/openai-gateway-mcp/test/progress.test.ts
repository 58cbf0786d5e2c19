/**
 * Progress as an MCP client sees it, through the real gateway to the fake upstream: with a
 * progressToken, chat_completion streams and reports the characters received so far (increasing,
 * throttled, the last one the full length) and ends with the same result as the plain call; a
 * stream that breaks after text was shown fails without a retry.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { ProgressNotificationSchema, type Progress } from "@modelcontextprotocol/sdk/types.js";
import { startGatewayOverFakeUpstream, type GatewayProcess, callTool, connectMcp, type McpProcess } from "@mcpgw/test-support";

const CHAT = "/v1/chat/completions";
const UPSTREAM_KEY = "sk-fake-upstream-key-for-progress-tests";
const CLIENT_KEY = "gw-progress-client-key";
// Twenty words: the fake streams its "echo: ..." reply one word a chunk.
const PROMPT = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty";
const ASK = { prompt: PROMPT, model: "gpt-4o-mini" };

interface Seen extends Progress {
  /** performance.now() when it arrived. */
  at: number;
}

interface Mcp extends McpProcess {
  /** Every notifications/progress, in the order it came over stdio. */
  progress: Seen[];
}

/** The bin with this file's key and quiet logs, on top of `env`, recording every progress notification. */
async function connect(env: Record<string, string>): Promise<Mcp> {
  const mcp = await connectMcp({ env: { GATEWAY_API_KEY: CLIENT_KEY, LOG_LEVEL: "warn", ...env } });
  // Record progress off the wire rather than through `onprogress`: the SDK client hands
  // notifications to it a microtask late, after a response read in the same chunk has already
  // retired the token, so the last notification before the result can be dropped there
  // (modelcontextprotocol/typescript-sdk#2580), although the server sent it first.
  const progress: Seen[] = [];
  mcp.client.setNotificationHandler(ProgressNotificationSchema, ({ params }) => {
    progress.push({ progress: params.progress, total: params.total, message: params.message, at: performance.now() });
  });
  return { ...mcp, progress };
}

/**
 * One chat_completion; with `withProgress`, `onprogress` makes the SDK send a progressToken.
 * Returns the progress notifications of this call, `at` in ms since it started.
 */
async function chat(mcp: Mcp, args: Record<string, unknown>, withProgress: boolean) {
  mcp.progress.length = 0;
  const { result, text, start, ms } = await callTool(mcp, "chat_completion", args, withProgress ? { onprogress: () => {} } : {});
  const progress = mcp.progress.map((p) => ({ ...p, at: p.at - start }));
  return { result, text, progress, ms };
}

function assertIncreasingCharacterCounts(progress: Seen[]) {
  for (const [i, p] of progress.entries()) {
    assert.match(p.message ?? "", /characters/, `notification ${i}: ${JSON.stringify(p)}`);
    if (i > 0) assert.ok(p.progress > progress[i - 1]!.progress, `progress went ${progress[i - 1]!.progress} -> ${p.progress}`);
  }
}

describe("through the real gateway", () => {
  let up: FakeUpstream;
  let gw: GatewayProcess;
  let mcp: Mcp;
  before(async () => {
    ({ upstream: up, gateway: gw } = await startGatewayOverFakeUpstream({ upstreamKey: UPSTREAM_KEY, clientKey: CLIENT_KEY }));
    mcp = await connect({ GATEWAY_URL: gw.origin, TIMEOUT: "30", MAX_RETRIES: "2" });
  });
  beforeEach(() => up.reset());
  after(async () => {
    await mcp?.close();
    await gw?.stop();
    await up?.close();
  });

  test("progress arrives while the text streams, and the result equals the plain call's", async () => {
    up.enqueue(CHAT, { kind: "slow-stream", chunkDelayMs: 100 });
    const streamed = await chat(mcp, ASK, true);
    const plain = await chat(mcp, ASK, false);

    assert.equal(streamed.result.isError, undefined, streamed.text);
    assert.equal(plain.result.isError, undefined, plain.text);
    assert.equal(streamed.text, `echo: ${PROMPT}`);
    assert.equal(streamed.text, plain.text);
    assert.deepEqual(streamed.result.structuredContent, plain.result.structuredContent);
    assert.equal((streamed.result.structuredContent as { content: string }).content, streamed.text);

    const { progress } = streamed;
    assert.ok(progress.length > 1, `${progress.length} progress notifications`);
    assertIncreasingCharacterCounts(progress);
    assert.equal(progress.at(-1)!.progress, streamed.text.length);
    // Live, not a burst at the end: the first notification came well before the ~2 s stream ended.
    assert.ok(progress[0]!.at < streamed.ms - 1000, `first progress at ${progress[0]!.at} ms of ${streamed.ms} ms`);
    assert.equal(plain.progress.length, 0);

    const [withProgress, withoutProgress] = up.requests;
    assert.equal(withProgress?.body.stream, true, "the call with progress did not stream");
    assert.notEqual(withoutProgress?.body.stream, true, "the call without progress streamed");
    assert.equal(up.requests.length, 2);
  });

  test("a fast stream is throttled: far fewer notifications than chunks, the last the full length", async () => {
    const chunks = 100;
    up.enqueue(CHAT, { kind: "slow-stream", chunkDelayMs: 5, chunks });
    const { result, text, progress } = await chat(mcp, ASK, true);
    assert.equal(result.isError, undefined, text);
    assert.equal(text, "tok ".repeat(chunks));
    assert.ok(progress.length > 1, `${progress.length} progress notifications`);
    assert.ok(progress.length < chunks / 4, `${progress.length} progress notifications for ${chunks} chunks`);
    assertIncreasingCharacterCounts(progress);
    assert.equal(progress.at(-1)!.progress, text.length);
  });

  test("a stream that breaks after text was shown fails, with no retry", async () => {
    up.enqueue(CHAT, { kind: "stream-cut", afterChunks: 6 });
    const { result, text, progress } = await chat(mcp, ASK, true);
    assert.equal(result.isError, true, `the broken stream succeeded with: ${text}`);
    assert.ok(progress.length >= 1, "no text was shown before the break");
    assert.equal(up.requests.filter((r) => r.path === CHAT).length, 1);
  });
});

describe("against the fake upstream as the gateway", () => {
  let up: FakeUpstream;
  let mcp: Mcp;
  before(async () => {
    up = await startFakeUpstream();
    mcp = await connect({ GATEWAY_URL: up.url, TIMEOUT: "2", MAX_RETRIES: "2" });
  });
  beforeEach(() => up.reset());
  after(async () => {
    await mcp?.close();
    await up?.close();
  });

  test("a stream cut after text was shown fails, with no retry", async () => {
    up.enqueue(CHAT, { kind: "stream-cut", afterChunks: 6 });
    const { result, text, progress } = await chat(mcp, ASK, true);
    assert.equal(result.isError, true, `the broken stream succeeded with: ${text}`);
    assert.ok(progress.length >= 1, "no text was shown before the break");
    assert.equal(up.requests.length, 1);
  });

  test("a stream that outlasts TIMEOUT fails naming TIMEOUT, never returns the text so far as the answer", async () => {
    up.enqueue(CHAT, { kind: "slow-stream", chunkDelayMs: 200, chunks: 50 });
    const { result, text, progress, ms } = await chat(mcp, ASK, true);
    assert.equal(result.isError, true, `a 10 s stream cut at TIMEOUT=2 s came back as the answer: '${text}'`);
    assert.match(text, /TIMEOUT=2 s/);
    assert.ok(progress.length >= 1, "no text was shown before the timeout");
    assert.equal(up.requests.length, 1, "retried after text was shown");
    assert.ok(ms >= 1900 && ms < 6000, `took ${ms} ms`);
  });
});
