/**
 * The tools docs pages in a real browser: Debian's chromium (installed by scripts/browser-tools.sh
 * when missing) driven by playwright-core, against the gateway as a process with server-everything
 * behind it. What a user does: open /tools/docs, give a key, see the tools that key may use, try one
 * and read its result; with public docs, see every tool at once and Authorize before trying one.
 * Every request the page makes is recorded: none may leave 127.0.0.1 (the page has no CDN).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { PACKAGE_DIR } from "./fixtures/registry-harness.ts";

const MINUTE = 60_000;
const T = { timeout: MINUTE };
const KEY = "gw-docs-browser-key-0123456789";
const OTHER_KEY = "gw-docs-browser-all-0123456789";
// No network a test does not ask for: no updates, no field trials, no first-run pages.
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync"];

let browser: Browser;
let gw: GatewayProcess;
let pub: GatewayProcess;

const everything = { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] };
const clients = [
  { name: "docs-user", keyEnv: "DOCS_KEY", tools: ["everything/echo", "everything/get-sum"] },
  { name: "all", keyEnv: "ALL_KEY", tools: ["*"] },
];

before(async () => {
  const { stdout } = await promisify(execFile)("bash", [join(PACKAGE_DIR, "../../scripts/browser-tools.sh")], { timeout: 10 * MINUTE });
  const executablePath = stdout.trim().split("\n").at(-1)!;
  const env = { DOCS_KEY: KEY, ALL_KEY: OTHER_KEY };
  [browser, gw, pub] = await Promise.all([
    chromium.launch({ executablePath, headless: true, args: FLAGS }),
    startGateway({ env, config: { clients, mcpServers: { everything } } }),
    startGateway({ env, config: { clients, mcpServers: { everything }, tools: { publicDocs: true } } }),
  ]);
  await Promise.all([waitForMcpServers(gw), waitForMcpServers(pub)]);
}, { timeout: 12 * MINUTE });
after(async () => {
  await browser?.close();
  await Promise.all([gw?.stop(), pub?.stop()]);
});

/** A fresh profile (its own localStorage) whose every request is recorded; any not to 127.0.0.1 is refused. */
async function freshPage(): Promise<{ page: Page; context: BrowserContext; requests: string[]; outside: string[] }> {
  const context = await browser.newContext();
  const requests: string[] = [];
  const outside: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    requests.push(url.href);
    if (url.protocol === "data:" || url.hostname === "127.0.0.1") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  return { page, context, requests, outside };
}

/** Opens an operation, fills its JSON body, executes it; returns the status and body Swagger UI shows. */
async function tryIt(page: Page, path: string, body: object): Promise<{ status: string; body: string }> {
  const op = page.locator(".opblock").filter({ has: page.locator(`[data-path="${path}"]`) });
  if (!(await op.evaluate((el) => el.classList.contains("is-open")))) await op.locator(".opblock-summary").first().click();
  // tryItOutEnabled opens the editor at once; a page without it shows a "Try it out" button first.
  const tryOut = op.getByRole("button", { name: /try it out/i });
  if ((await tryOut.count()) > 0) await tryOut.click();
  // Clear what a previous try left, so that the answer read below is this one's.
  const clear = op.locator("button.btn-clear");
  if ((await clear.count()) > 0) await clear.click();
  await op.locator("textarea.body-param__text").fill(JSON.stringify(body));
  await op.locator("button.execute").click();
  const row = op.locator(".live-responses-table tbody tr.response").first();
  await row.waitFor({ timeout: 15_000 });
  return { status: ((await row.locator(".response-col_status").textContent()) ?? "").trim(), body: (await row.locator(".response-col_description pre").first().textContent()) ?? "" };
}

const shownPaths = async (page: Page) => (await page.locator(".opblock [data-path]").evaluateAll((els) => els.map((e) => e.getAttribute("data-path")))).sort();

describe("the docs page in Chromium", () => {
  test("it asks for a key, then shows that key's tools; try it on echo returns the tool's result", T, async () => {
    const { page, context, requests, outside } = await freshPage();
    await page.goto(`${gw.origin}/tools/docs`);
    await page.locator("#mcpgw-key-input").waitFor();
    assert.equal(await page.locator(".opblock").count(), 0, "no tools before a key");
    await page.fill("#mcpgw-key-input", KEY);
    await page.click("#mcpgw-key-form button[type=submit]");
    await page.locator(".opblock").first().waitFor();
    assert.deepEqual(await shownPaths(page), ["/everything/echo", "/everything/get-sum"], "exactly the tools the key may use");
    const echo = await tryIt(page, "/everything/echo", { message: "from the browser" });
    assert.equal(echo.status, "200");
    assert.match(echo.body, /Echo: from the browser/);
    const bad = await tryIt(page, "/everything/get-sum", { a: "two", b: 1 });
    assert.equal(bad.status, "422");
    assert.match(bad.body, /'a'/);
    assert.deepEqual(outside, [], "every request stayed on 127.0.0.1");
    assert.ok(requests.some((u) => u.endsWith("/tools/openapi.json")));
    // The key is in this browser's storage, never in the page the gateway sent.
    assert.ok(!(await (await fetch(`${gw.origin}/tools/docs`)).text()).includes(KEY));
    await context.close();
  });

  test("a wrong key is refused on the page, which asks again", T, async () => {
    const { page, context, outside } = await freshPage();
    await page.goto(`${gw.origin}/tools/everything/docs`);
    await page.fill("#mcpgw-key-input", "gw-not-a-key-000000000000");
    await page.click("#mcpgw-key-form button[type=submit]");
    await page.locator("#mcpgw-key-problem").waitFor({ state: "visible" });
    assert.match((await page.locator("#mcpgw-key-problem").textContent()) ?? "", /refused/);
    assert.deepEqual(outside, []);
    await context.close();
  });

  test("public docs: every tool shows without a key; a call needs Authorize, then returns its result", T, async () => {
    const { page, context, outside } = await freshPage();
    await page.goto(`${pub.origin}/tools/everything/docs`);
    await page.locator(".opblock").first().waitFor();
    const paths = await shownPaths(page);
    assert.ok(paths.includes("/echo") && paths.includes("/get-env") && paths.length >= 10, paths.join(", "));
    assert.equal((await tryIt(page, "/get-sum", { a: 1, b: 2 })).status, "401");
    await page.click("button.authorize");
    await page.locator(".auth-container input").first().fill(OTHER_KEY);
    await page.click(".auth-container button.authorize");
    await page.click("button.btn-done");
    const sum = await tryIt(page, "/get-sum", { a: 20, b: 22 });
    assert.equal(sum.status, "200");
    assert.match(sum.body, /42/);
    assert.deepEqual(outside, []);
    await context.close();
  });
});
