/**
 * /dashboard in a real browser: Debian's chromium (scripts/browser-tools.sh) driven by
 * playwright-core, against the gateway as a process over the fake upstream with server-everything
 * configured. What an operator does: open the page, give an admin key, and see this run's usage as
 * charts (by key, by model), every key's limits and budget, and the MCP server's state. A key that is
 * not an admin's is told so. No console errors, and no request leaves 127.0.0.1 (no CDN).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { startFakeUpstream, type FakeUpstream } from "@mcpgw/fake-upstream";
import { SERVER_EVERYTHING, startGateway, waitForMcpServers, type GatewayProcess } from "@mcpgw/test-support";
import { chromium, type Browser, type Page } from "playwright-core";
import { PACKAGE_DIR } from "./fixtures/registry-harness.ts";

const MINUTE = 60_000;
const T = { timeout: MINUTE };
const KEYS = { admin: "gw-dash-admin-0123456789", app: "gw-dash-app-0123456789", other: "gw-dash-other-0123456789" };
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync"];

let browser: Browser;
let up: FakeUpstream;
let gw: GatewayProcess;

before(async () => {
  const { stdout } = await promisify(execFile)("bash", [join(PACKAGE_DIR, "../../scripts/browser-tools.sh")], { timeout: 10 * MINUTE });
  const executablePath = stdout.trim().split("\n").at(-1)!;
  up = await startFakeUpstream();
  [browser, gw] = await Promise.all([
    chromium.launch({ executablePath, headless: true, args: FLAGS }),
    startGateway({
      env: { UPSTREAM_KEY: "sk-dash-upstream-0123456789", ADMIN: KEYS.admin, APP: KEYS.app, OTHER: KEYS.other },
      config: {
        providers: { fake: { type: "openai", baseUrl: up.url, apiKey: "${UPSTREAM_KEY}" } },
        models: { "gpt-4o-mini": "fake/gpt-4o-mini", "gpt-4o": "fake/gpt-4o" },
        clients: [
          { name: "ops", keyEnv: "ADMIN", admin: true },
          { name: "web-app", keyEnv: "APP", limits: { rpm: 60, tpm: 50000, concurrency: 4 }, budget: { usd: 25, period: "month" } },
          { name: "batch", keyEnv: "OTHER" },
        ],
        mcpServers: { everything: { command: process.execPath, args: [SERVER_EVERYTHING, "stdio"] } },
      },
    }),
  ]);
  await waitForMcpServers(gw);
  // This run's traffic: two keys, two models.
  for (const [key, model, n] of [[KEYS.app, "gpt-4o-mini", 3], [KEYS.app, "gpt-4o", 2], [KEYS.other, "gpt-4o-mini", 4]] as const) {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${gw.baseURL}/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model, messages: [{ role: "user", content: `dashboard traffic ${i}` }] }),
      });
      assert.equal(res.status, 200);
    }
  }
}, { timeout: 12 * MINUTE });
after(async () => {
  await browser?.close();
  await gw?.stop();
  await up?.close();
});

async function openDashboard(): Promise<{ page: Page; outside: string[]; errors: string[] }> {
  const context = await browser.newContext();
  const outside: string[] = [];
  const errors: string[] = [];
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === "data:" || url.hostname === "127.0.0.1") return route.continue();
    outside.push(url.href);
    return route.abort();
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(`${gw.origin}/dashboard`);
  return { page, outside, errors };
}

describe("/dashboard", () => {
  test("an admin key sees this run's usage as charts, every key's limits and budget, and the MCP server", T, async () => {
    const { page, outside, errors } = await openDashboard();
    await page.locator("#key-input").fill(KEYS.admin);
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await page.locator("#board").waitFor({ state: "visible", timeout: 15_000 });
    // The charts hold what the run sent: per key and per model, the requests' tokens.
    // In the page (a string: this file is typed without the DOM's types).
    const charts = (await page.evaluate(`(() => {
      const read = (id) => Chart.getChart(document.getElementById(id))?.data.datasets.map((d) => ({ label: d.label, total: d.data.reduce((a, b) => a + b, 0) }));
      return { byKey: read("cost-by-key"), byModel: read("tokens-by-model") };
    })()`)) as { byKey?: { label: string; total: number }[]; byModel?: { label: string; total: number }[] };
    assert.deepEqual(charts.byKey?.map((d) => d.label), ["batch", "web-app"]);
    assert.deepEqual(charts.byModel?.map((d) => d.label), ["gpt-4o", "gpt-4o-mini"]);
    assert.ok(charts.byModel!.every((d) => d.total > 0));
    // gpt-4o is priced by the built-in table: web-app's spend is on the chart.
    assert.ok(charts.byKey!.find((d) => d.label === "web-app")!.total > 0);
    // Canvas pixels were drawn (not a blank chart).
    const painted = (await page.evaluate(`(() => {
      const c = document.getElementById("tokens-by-model");
      const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
      return n;
    })()`)) as number;
    assert.ok(painted > 1000, `painted pixels: ${painted}`);
    const totals = await page.locator("#totals").innerText();
    assert.match(totals, /^9\s*requests/m);
    const limits = await page.locator("#limits tbody").innerText();
    assert.match(limits, /web-app\s+\d+ \/ 60\s+\d+ \/ 50000\s+0 \/ 4\s+\$0\.\d{4} of \$25 per month/);
    assert.match(limits, /batch\s+no limit/);
    assert.match(await page.locator("#servers tbody").innerText(), /everything\s+ready\s+\d+/);
    assert.deepEqual(outside, []);
    assert.deepEqual(errors, []);
    await page.context().close();
  });

  test("a key that is not an admin's is told so, and sees nothing", T, async () => {
    const { page, outside } = await openDashboard();
    await page.locator("#key-input").fill(KEYS.app);
    await page.getByRole("button", { name: "Open the dashboard" }).click();
    await page.locator("#key-problem").waitFor({ state: "visible", timeout: 15_000 });
    assert.match(await page.locator("#key-problem").innerText(), /not an admin key/);
    assert.equal(await page.locator("#board").isVisible(), false);
    assert.deepEqual(outside, []);
    await page.context().close();
  });
});
