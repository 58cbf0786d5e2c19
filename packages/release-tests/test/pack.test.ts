/**
 * The npm tarballs as a user receives them: each package is packed from the built workspace,
 * installed with the system npm into an empty folder outside the repository, and run from there on
 * Node 24. Nothing of the repository is reachable from that folder (no parent node_modules, no
 * repository bins on PATH), so a file left out of `files`, or an import of a dev dependency, fails
 * here rather than for the first user of `npx @mcpgw/...`.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, sep } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const PACKAGES_DIR = fileURLToPath(new URL("../../", import.meta.url));
const DEMO_MODEL = "mcpgw-offline-demo";
/** Installs fetch every dependency from the registry: ~30 s each on a cold cache. */
const SETUP = { timeout: 240_000 };
const T = { timeout: 30_000 };

interface Manifest {
  name: string;
  version: string;
  bin: Record<string, string>;
  exports: Record<string, Record<string, string>>;
  devDependencies?: Record<string, string>;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const work = mkdtempSync(join(tmpdir(), "mcpgw-pack-test-"));
// A PATH entry holding only Node 24, so no repository bin (node_modules/.bin) can stand in for the
// installed one; npm and npx are the system's, run on this node through their `env node` shebang.
const nodeDir = join(work, "node24");
mkdirSync(nodeDir);
symlinkSync(process.execPath, join(nodeDir, "node"));
const systemPath = (process.env.PATH ?? "").split(delimiter).filter((p) => p !== "" && !p.includes(`${sep}node_modules${sep}`));
const PATH = [nodeDir, ...systemPath].join(delimiter);

/** The inherited environment minus what an outer `npm test` or `node --test` set up for the repository. */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|userconfig|cafile|strict_ssl|(https_|no_)?proxy)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(name) && !keep.test(name)) continue;
    if (["NODE_PATH", "NODE_OPTIONS", "NODE_TEST_CONTEXT", "INIT_CWD"].includes(name)) continue;
    env[name] = value;
  }
  return { ...env, PATH, npm_config_fund: "false", npm_config_audit: "false", npm_config_update_notifier: "false" };
}

/** How a user starts the bin: PATH and HOME, nothing from the test runner. */
const runEnv = (extra: Record<string, string> = {}): Record<string, string> => ({ PATH, HOME: process.env.HOME ?? work, ...extra });

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d: Buffer) => (stdout += d));
    proc.stderr.on("data", (d: Buffer) => (stderr += d));
    proc.once("error", reject);
    proc.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOk(what: string, r: Run): void {
  assert.equal(r.code, 0, `${what} exited with ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
}

const progress = (msg: string) => process.stderr.write(`# pack: ${msg}\n`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

interface Installed {
  manifest: Manifest;
  /** Paths inside the tarball, relative to the package root. */
  files: string[];
  tarball: string;
  /** The empty folder the tarball was installed into. */
  home: string;
  /** node_modules/<name> inside it. */
  pkgDir: string;
}

/** Packs a workspace package into a fresh folder: its tarball's path and what it holds. */
async function pack(dir: string): Promise<{ manifest: Manifest; tarball: string; files: string[] }> {
  const pkgRoot = join(PACKAGES_DIR, dir);
  const manifest = JSON.parse(readFileSync(join(pkgRoot, "package.json"), "utf8")) as Manifest;
  const dest = mkdtempSync(join(work, `${dir}-tarball-`));
  const since = Date.now();
  const packed = await run("npm", ["pack", "--json", "--pack-destination", dest], pkgRoot, npmEnv(), 60_000);
  expectOk("npm pack", packed);
  const [info] = JSON.parse(packed.stdout) as { filename: string; size: number; files: { path: string }[] }[];
  assert.ok(info, packed.stdout);
  progress(`${manifest.name}: packed ${info.files.length} files, ${(info.size / 1024).toFixed(0)} kB, in ${seconds(since)}`);
  return { manifest, tarball: join(dest, info.filename), files: info.files.map((f) => f.path) };
}

/** The shared @mcpgw packages a package depends on, and theirs: the folders under packages/. */
function sharedDependencies(dir: string, seen = new Set<string>()): string[] {
  const manifest = JSON.parse(readFileSync(join(PACKAGES_DIR, dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (!name.startsWith("@mcpgw/")) continue;
    const sub = name.slice("@mcpgw/".length);
    if (seen.has(sub)) continue;
    seen.add(sub);
    sharedDependencies(sub, seen);
  }
  return [...seen];
}

/**
 * npm pack the workspace package, then npm init + npm install the tarball into a fresh folder.
 * The shared @mcpgw packages it depends on are packed and installed beside it, as the registry
 * would supply them once all are published; everything else comes from the registry.
 */
async function packAndInstall(dir: string): Promise<Installed> {
  const env = npmEnv();
  const { manifest, tarball, files } = await pack(dir);
  const shared = await Promise.all(sharedDependencies(dir).map((d) => pack(d)));
  const home = mkdtempSync(join(work, `${dir}-install-`));
  expectOk("npm init -y", await run("npm", ["init", "-y"], home, env, 30_000));
  const since = Date.now();
  progress(`${manifest.name}: npm install <tarball> ${shared.map((p) => p.manifest.name).join(" ")} in ${home} ...`);
  expectOk("npm install", await run("npm", ["install", tarball, ...shared.map((p) => p.tarball)], home, env, 200_000));
  progress(`${manifest.name}: installed in ${seconds(since)}`);
  return { manifest, files, tarball, home, pkgDir: join(home, "node_modules", ...manifest.name.split("/")) };
}

/** Checks that hold for both packages: what the tarball holds, and that the installed copy stands alone. */
function commonTests(get: () => Installed, binName: string): void {
  test("the tarball holds bin, dist/cli.js and every exported file, and no sources, tests or build info", T, (t) => {
    const { files, manifest } = get();
    t.diagnostic(`${files.length} files`);
    const pointedAt = [...Object.values(manifest.bin), ...Object.values(manifest.exports).flatMap((e) => Object.values(e))];
    for (const wanted of ["package.json", "README.md", "dist/cli.js", ...pointedAt.map((p) => p.replace(/^\.\//, ""))]) {
      assert.ok(files.includes(wanted), `${wanted} is not in the tarball`);
    }
    assert.ok(files.some((f) => /^bin\/[^/]+\.js$/.test(f)), "no bin/*.js in the tarball");
    const unwanted = files.filter((f) => /(^|\/)(src|test)\//.test(f) || f.endsWith(".tsbuildinfo") || /\.ts$/.test(f.replace(/\.d\.ts$/, "")));
    assert.deepEqual(unwanted, [], "files a user should not receive");
  });

  test("the install folder is outside the repository, with no node_modules above it", T, () => {
    const { home, pkgDir, manifest } = get();
    const real = realpathSync(pkgDir);
    assert.ok(real.startsWith(realpathSync(home) + sep), `${manifest.name} resolves to ${real}, not into ${home}`);
    assert.ok(!real.startsWith(realpathSync(dirname(PACKAGES_DIR))), "the installed package is the workspace copy");
    // Node resolves bare imports up the tree; anything there would hide a missing dependency.
    for (let d = dirname(home); d !== dirname(d); d = dirname(d)) {
      assert.ok(!existsSync(join(d, "node_modules")), `${d}/node_modules could satisfy imports`);
    }
    for (const dev of Object.keys(manifest.devDependencies ?? {})) {
      assert.ok(!existsSync(join(home, "node_modules", dev)), `dev dependency ${dev} got installed`);
    }
  });

  test(`npx ${binName} resolves to the installed bin`, T, async () => {
    const { home } = get();
    const r = await run("npx", ["--no", "-c", `command -v ${binName}`], home, runEnv(), 20_000);
    expectOk("npx -c 'command -v'", r);
    assert.equal(realpathSync(r.stdout.trim()), realpathSync(join(home, "node_modules", ".bin", binName)));
  });

  test(`npx ${binName} --version prints the package version`, T, async () => {
    const { home, manifest } = get();
    // --no: never fetch an unrelated registry package of the same name if the bin is missing;
    // --: with --no in front, npx would otherwise take --version as its own flag.
    const r = await run("npx", ["--no", "--", binName, "--version"], home, runEnv(), 20_000);
    expectOk(`npx ${binName} --version`, r);
    assert.equal(r.stdout.trim(), manifest.version);
    assert.doesNotMatch(r.stderr, /ERR_MODULE_NOT_FOUND|Cannot find (module|package)|not built yet/);
  });

  test("the package's main export imports in the install folder", T, async () => {
    const { home, manifest } = get();
    const script = `import(${JSON.stringify(manifest.name)}).then((m) => console.log(Object.keys(m).length))`;
    const r = await run(process.execPath, ["--input-type=module", "-e", script], home, runEnv(), 20_000);
    expectOk(`import("${manifest.name}")`, r);
    assert.ok(Number(r.stdout.trim()) > 0, `no exports: ${r.stdout}`);
  });
}

after(() => rmSync(work, { recursive: true, force: true }));

describe("@mcpgw/openai-gateway-mcp from its tarball", { timeout: 300_000 }, () => {
  let installed: Installed | undefined;
  const get = () => installed ?? assert.fail("pack and install failed; see the before hook");
  before(async () => {
    installed = await packAndInstall("openai-gateway-mcp");
  }, SETUP);

  commonTests(get, "openai-gateway-mcp");

  test("an MCP client initializes the installed bin and lists chat_completion and list_models", T, async (t) => {
    const { home, pkgDir, manifest } = get();
    // Unconfigured on purpose: the server must still start and list its tools.
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(pkgDir, manifest.bin["openai-gateway-mcp"]!)],
      cwd: home,
      env: runEnv(),
      stderr: "pipe",
    });
    let stderr = "";
    transport.stderr?.on("data", (d: Buffer) => (stderr += d));
    const client = new Client({ name: "release-tests", version: "0.0.0" });
    try {
      await client.connect(transport);
      assert.equal(client.getServerVersion()?.version, manifest.version);
      const { tools } = await client.listTools();
      t.diagnostic(`tools: ${tools.map((x) => x.name).join(", ")}`);
      assert.deepEqual(tools.map((x) => x.name).sort(), ["chat_completion", "list_models"]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nserver stderr:\n${stderr}`, { cause: err });
    } finally {
      await client.close();
    }
  });
});

describe("@mcpgw/openai-gateway from its tarball", { timeout: 300_000 }, () => {
  let installed: Installed | undefined;
  let proc: ChildProcess | undefined;
  const get = () => installed ?? assert.fail("pack and install failed; see the before hook");
  before(async () => {
    installed = await packAndInstall("openai-gateway");
  }, SETUP);
  after(() => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
  });

  commonTests(get, "openai-gateway");

  test("the installed bin serves the offline demo on port 0, over /v1 and /mcp, and exits 0 on SIGTERM", T, async (t) => {
    const { home, pkgDir, manifest } = get();
    // No upstream key, URL or config: the offline demo answers.
    const child = spawn(process.execPath, [join(pkgDir, manifest.bin["openai-gateway"]!)], {
      cwd: home,
      env: runEnv({ PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "info" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    proc = child;
    let output = "";
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const origin = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not start:\n${output}`)), 15_000);
      const onData = (d: Buffer) => {
        output += d;
        const m = /listening on (https?:\/\/[\d.]+:\d+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      };
      child.stdout.on("data", onData);
      child.stderr.on("data", onData);
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`gateway exited with ${code} before listening:\n${output}`));
      });
    });
    t.diagnostic(`listening on ${origin}`);

    const health = await fetch(`${origin}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "ok" });

    const res = await fetch(`${origin}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: DEMO_MODEL, messages: [{ role: "user", content: "hello from the tarball" }] }),
    });
    const body = (await res.json()) as { object?: string; model?: string; choices?: { message?: { content?: string } }[] };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.object, "chat.completion");
    assert.equal(body.model, DEMO_MODEL);
    assert.match(body.choices?.[0]?.message?.content ?? "", /offline demo.*hello from the tarball/s);

    // /mcp loads the MCP SDK and the shared MCP packages at its first request: they came with the install.
    const mcp = new Client({ name: "tarball-gateway-mcp", version: "0.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${origin}/mcp`)));
    try {
      const reply = await mcp.callTool({ name: "chat_completion", arguments: { prompt: "hello through /mcp", model: DEMO_MODEL } });
      assert.match((reply.content as { text: string }[])[0]?.text ?? "", /offline demo.*hello through \/mcp/s, output);
    } finally {
      await mcp.close();
    }

    child.kill("SIGTERM");
    assert.equal(await exited, 0, `exit code after SIGTERM\n${output}`);
  });
});
