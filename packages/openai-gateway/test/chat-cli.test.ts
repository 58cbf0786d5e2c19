/**
 * `openai-gateway chat`, the terminal chat, as a user runs it against a running gateway (a process,
 * with server-everything behind it and the fake upstream's scripted model): piped, where only the
 * replies come out; in a real terminal (a tmux pane, installed by scripts/terminal-tools.sh when
 * missing), where the user types, sees tool calls and the reply stream, stops an answer with Ctrl-C
 * and leaves with Ctrl-C twice or `exit`; and the one-line errors for a gateway that is not there
 * or a key that is wrong.
 */
import assert from "node:assert/strict";
import { execFile, execFileSync, spawn } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { GATEWAY_BIN, SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import { PACKAGE_DIR } from "./fixtures/registry-harness.ts";

const UPSTREAM_KEY = "sk-chatcli-upstream-key-0123456789";
const KEY = "gw-chatcli-client-key-0123456789";
const T = { timeout: 30_000 };

let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  up = await startFakeUpstream();
  gw = await startGateway({
    env: { UPSTREAM_KEY, GATEWAY_API_KEYS: KEY },
    config: {
      providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
      models: { assistant: { targets: "fake/gpt-4o-mini", tools: ["everything"] } },
      mcpServers: { everything: { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] } },
    },
  });
  await waitForMcpServers(gw);
});
after(async () => {
  await gw?.stop();
  await up?.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The chat command with `input` on its stdin (a pipe), run to its end. */
function chat(args: string[], input: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [GATEWAY_BIN, "chat", ...args], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    proc.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    proc.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    proc.on("error", reject);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    proc.stdin.end(input);
  });
}

describe("piped", () => {
  test("each line is a message of one conversation; only the replies are printed, one per line", T, async () => {
    const before = up.requests.length;
    const run = await chat(["--url", gw.baseURL], 'CALL everything__echo {"message": "piped"}\n\nsecond\n', { GATEWAY_API_KEY: KEY });
    assert.equal(run.stderr, "");
    assert.equal(run.code, 0);
    assert.equal(run.stdout, "done: Echo: piped\necho: second\n");
    // One session: the second message reached the model after the first turn.
    const last = up.requests.slice(before).filter((r) => r.path === "/v1/chat/completions").at(-1)!;
    const roles = (last.body.messages as { role: string }[]).map((m) => m.role);
    assert.deepEqual(roles, ["user", "assistant", "tool", "assistant", "user"]);
  });

  test("--key wins over GATEWAY_API_KEY; GATEWAY_URL is read; a wrong key is one line on stderr, exit 1, the key never shown", T, async () => {
    const wrong = "gw-chatcli-wrong-key-0123456789";
    const run = await chat(["--key", wrong], "hello\n", { GATEWAY_API_KEY: KEY, GATEWAY_URL: gw.origin });
    assert.equal(run.code, 1);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /^openai-gateway chat: the gateway at http:\/\/127\.0\.0\.1:\d+ refused the key .*--key KEY or GATEWAY_API_KEY\n$/);
    assert.ok(!run.stderr.includes(wrong));
    const none = await chat(["--url", gw.origin], "hello\n");
    assert.equal(none.code, 1);
    assert.match(none.stderr, /needs a key .*give one with --key KEY or GATEWAY_API_KEY/);
  });

  test("a gateway that is not there: one line that says where it looked and how to start one", T, async () => {
    // A port nobody listens on: ask the OS for one and let it go.
    const { createServer } = await import("node:net");
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const run = await chat(["--url", `http://127.0.0.1:${port}`], "hello\n");
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^openai-gateway chat: cannot reach the gateway at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*npx @mcpgw/openai-gateway\\n$`));
    const bad = await chat(["--url", "not a url"], "");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--url: 'not a url' is not a URL/);
  });

  test("an unknown --model: the gateway's 404 in one line, with what to do", T, async () => {
    const run = await chat(["--url", gw.origin, "--model", "no-such-model"], "hello\n", { GATEWAY_API_KEY: KEY });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /no-such-model.*choose another with --model NAME/);
    assert.ok(!run.stderr.includes("at "), "no stack trace");
  });
});

describe("in a terminal (tmux)", () => {
  let tmux: string;
  const socket = `mcpgw-chat-test-${process.pid}`;
  const t = (...args: string[]) => execFileSync(tmux, ["-L", socket, ...args], { encoding: "utf8" });
  const screen = (pane: string) => t("capture-pane", "-p", "-t", pane);

  /** Waits until the pane shows `pattern`; fails with what it shows. */
  async function waitFor(pane: string, pattern: RegExp, what: string, timeoutMs = 15_000): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const shown = screen(pane);
      if (pattern.test(shown)) return shown;
      if (Date.now() > end) assert.fail(`the terminal never showed ${what}; it shows:\n${shown}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * A new pane running the chat under a shell that shows its exit code when it ends (the shell
   * reaps it: tmux, busy, can be seconds late to notice a pane's process has exited).
   */
  function open(name: string): string {
    const chat = [process.execPath, GATEWAY_BIN, "chat", "--url", gw.origin].map((a) => `'${a}'`).join(" ");
    const command = `${chat}; echo "[exit code $?]"`;
    t("new-session", "-d", "-s", name, "-x", "120", "-y", "40", "-e", `GATEWAY_API_KEY=${KEY}`, "-e", "LANG=C.UTF-8", "-e", "NO_COLOR=1", command);
    t("set-option", "-t", name, "remain-on-exit", "on");
    return `${name}:0.0`;
  }

  before(async () => {
    const { stdout } = await promisify(execFile)("bash", [join(PACKAGE_DIR, "../../scripts/terminal-tools.sh")], { timeout: 600_000 });
    tmux = stdout.trim().split("\n").at(-1)!;
  }, { timeout: 600_000 });
  after(() => {
    try {
      t("kill-server");
    } catch {
      // no server left: nothing to stop
    }
  });

  test("type a message: the tool call shows on its own line, then the reply; `exit` leaves with 0", T, async () => {
    const pane = open("talk");
    await waitFor(pane, /^you>\s*$/m, "the prompt");
    t("send-keys", "-t", pane, "-l", 'CALL everything__echo {"message": "from tmux"}');
    t("send-keys", "-t", pane, "Enter");
    const shown = await waitFor(pane, /done: Echo: from tmux\n+you>/, "the reply and a new prompt");
    assert.match(shown, /⚙ everything\/echo … done \d+ ms/);
    t("send-keys", "-t", pane, "-l", "exit");
    t("send-keys", "-t", pane, "Enter");
    await waitFor(pane, /^\[exit code 0\]$/m, "the chat ending with exit code 0");
  });

  test("Ctrl-C stops an answer and the prompt comes back; the stopped turn is not kept; Ctrl-C twice at the prompt leaves", { timeout: 45_000 }, async () => {
    const pane = open("stop");
    await waitFor(pane, /^you>\s*$/m, "the prompt");
    up.enqueue("/v1/chat/completions", { kind: "slow-stream", chunkDelayMs: 400 });
    t("send-keys", "-t", pane, "-l", "tell me a long story");
    t("send-keys", "-t", pane, "Enter");
    const partial = await waitFor(pane, /echo: tell/, "the answer starting");
    assert.doesNotMatch(partial, /^echo: .*story/m, "the text shows as it streams, before the answer ends");
    const request = up.requests.filter((r) => r.path === "/v1/chat/completions").at(-1)!;
    t("send-keys", "-t", pane, "C-c");
    await waitFor(pane, /\[stopped\]\n+^you>\s*$/m, "[stopped] and the prompt");
    // Stopped for real: the request was aborted all the way to the upstream, not left to run.
    await up.waitForClose(request);
    assert.equal(request.aborted, true, "the upstream's stream was cut off before its end");
    assert.doesNotMatch(screen(pane), /\[exit code/, "still running");

    // The next message goes on in the same session, without the stopped turn.
    t("send-keys", "-t", pane, "-l", "next one");
    t("send-keys", "-t", pane, "Enter");
    await waitFor(pane, /echo: next one\n+^you>\s*$/m, "the next reply");
    const last = up.requests.filter((r) => r.path === "/v1/chat/completions").at(-1)!;
    assert.deepEqual((last.body.messages as { role: string; content: string }[]).map((m) => m.content), ["next one"]);

    t("send-keys", "-t", pane, "C-c");
    await waitFor(pane, /To exit, press Ctrl\+C again/, "how to leave");
    t("send-keys", "-t", pane, "C-c");
    await waitFor(pane, /^\[exit code 0\]$/m, "the chat ending with exit code 0");
  });
});
