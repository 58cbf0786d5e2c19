/**
 * /dashboard: usage over time by key and by model, every key's limits and budget as they stand, and
 * the MCP servers' state. One page served by the gateway, charts by Chart.js from its npm package
 * (no CDN: it works offline). The page holds no data: it asks for an admin key, keeps it in this
 * browser only (sessionStorage: gone with the tab), and reads the same endpoints a script would
 * (/usage, /usage/limits, /ready), so it shows nothing the key could not read itself.
 */
/** `needsKey`: the gateway has client keys (without any, on loopback, its caller is its operator). */
export function dashboardPage(opts: { assets: string; needsKey: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcpgw dashboard</title>
<style>
  [hidden] { display: none !important; }
  body { margin: 0; font-family: system-ui, sans-serif; color: #222; background: #fafafa; }
  header { padding: .8rem 1.5rem; background: #1f2937; color: #fff; display: flex; gap: 1rem; align-items: center; }
  header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
  header a, header select { color: inherit; background: transparent; border: 1px solid #666; border-radius: 4px; padding: .2rem .4rem; }
  main { padding: 1rem 1.5rem; display: grid; grid-template-columns: repeat(auto-fit, minmax(28rem, 1fr)); gap: 1rem; }
  section { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 1rem; }
  section h2 { font-size: 1rem; margin: 0 0 .6rem; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  #key { max-width: 32rem; margin: 3rem auto; padding: 1.5rem; border: 1px solid #ccc; border-radius: 6px; background: #fff; }
  #key input { width: 100%; padding: .5rem; margin: .5rem 0; box-sizing: border-box; }
  .problem { color: #b00; }
  .totals { display: flex; gap: 2rem; font-size: 1.1rem; }
  .totals b { display: block; font-size: 1.5rem; }
</style>
</head>
<body>
<header><h1>mcpgw dashboard</h1>
  <label>Range <select id="range"><option value="7">7 days</option><option value="30" selected>30 days</option><option value="90">90 days</option></select></label>
  <a href="#" id="forget" hidden>Use another key</a>
</header>
<div id="key" hidden>
  <h2>An admin key of this gateway</h2>
  <form id="key-form">
    <label for="key-input">Keys with <code>admin: true</code> may see every key's usage.</label>
    <input id="key-input" type="password" autocomplete="off" placeholder="admin key" required>
    <button type="submit">Open the dashboard</button>
  </form>
  <p>The key stays in this browser tab (sessionStorage); the gateway never puts it in the page.</p>
  <p id="key-problem" class="problem" hidden></p>
</div>
<main id="board" hidden>
  <section style="grid-column: 1 / -1"><h2>Totals in range</h2><div class="totals" id="totals"></div></section>
  <section><h2>Cost per day by key (USD)</h2><canvas id="cost-by-key" height="220"></canvas></section>
  <section><h2>Tokens per day by model</h2><canvas id="tokens-by-model" height="220"></canvas></section>
  <section><h2>Limits and budgets now</h2><table id="limits"><thead><tr><th>key</th><th>requests/min left</th><th>tokens/min left</th><th>in flight</th><th>budget spent</th></tr></thead><tbody></tbody></table><p id="store"></p></section>
  <section><h2>MCP servers</h2><table id="servers"><thead><tr><th>server</th><th>state</th><th>tools</th></tr></thead><tbody></tbody></table></section>
</main>
<script src="${opts.assets}/chart.umd.js"></script>
<script>
(() => {
  const KEY = "mcpgw-dashboard-key";
  const $ = (id) => document.getElementById(id);
  const charts = {};
  const ask = (problem) => {
    $("board").hidden = true;
    $("key").hidden = false;
    if (problem) { $("key-problem").textContent = problem; $("key-problem").hidden = false; }
  };
  $("key-form").addEventListener("submit", (e) => { e.preventDefault(); sessionStorage.setItem(KEY, $("key-input").value.trim()); $("key").hidden = true; load(); });
  $("forget").addEventListener("click", (e) => { e.preventDefault(); sessionStorage.removeItem(KEY); ask(); });
  $("range").addEventListener("change", () => load());

  const get = async (path) => {
    const key = sessionStorage.getItem(KEY);
    const res = await fetch(path, { headers: key ? { authorization: "Bearer " + key } : {} });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) { const err = new Error(body.error ? body.error.message : "HTTP " + res.status); err.status = res.status; throw err; }
    return body;
  };
  const cell = (text, numeric) => { const td = document.createElement("td"); td.textContent = text; if (numeric) td.className = "n"; return td; };
  const row = (tbody, cells) => { const tr = document.createElement("tr"); for (const c of cells) tr.append(c); tbody.append(tr); };

  /** Day-by-series stacked bars: one dataset per series (key or model), one bar per day. */
  const stacked = (id, rows, seriesOf, valueOf, days) => {
    const series = [...new Set(rows.map(seriesOf))].sort();
    const datasets = series.map((s) => ({ label: s, data: days.map((d) => rows.filter((r) => r.day === d && seriesOf(r) === s).reduce((n, r) => n + valueOf(r), 0)) }));
    if (charts[id]) charts[id].destroy();
    charts[id] = new Chart($(id), {
      type: "bar",
      data: { labels: days, datasets },
      options: { animation: false, responsive: true, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } }, plugins: { legend: { position: "bottom" } } },
    });
  };

  async function load() {
    const days = Number($("range").value);
    const to = new Date();
    const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - days + 1));
    const range = "from=" + from.toISOString() + "&to=" + to.toISOString();
    let byKey, byModel, limits, ready;
    try {
      [limits, byKey, byModel] = await Promise.all([get("/usage/limits?key=*"), get("/usage?group_by=day,key&" + range), get("/usage?group_by=day,model&" + range)]);
    } catch (err) {
      if (err.status === 401 || err.status === 403) { sessionStorage.removeItem(KEY); return ask(err.status === 403 ? "That key is not an admin key: the dashboard shows every key's usage." : "That key was refused: try another."); }
      return ask("The gateway answered: " + err.message);
    }
    // /ready answers 503 while draining or waiting for a server, with the same body.
    ready = await fetch("/ready").then((r) => r.json()).catch(() => ({}));
    $("key").hidden = true;
    $("board").hidden = false;
    $("forget").hidden = !sessionStorage.getItem(KEY);
    const dayList = [];
    for (let d = new Date(from); d <= to; d = new Date(d.getTime() + 86400000)) dayList.push(d.toISOString().slice(0, 10));
    stacked("cost-by-key", byKey.data, (r) => r.key, (r) => r.cost_usd, dayList);
    stacked("tokens-by-model", byModel.data, (r) => r.model, (r) => r.total_tokens, dayList);
    const sum = (f) => byKey.data.reduce((n, r) => n + r[f], 0);
    $("totals").replaceChildren(
      ...[["requests", sum("requests").toLocaleString()], ["tokens", sum("total_tokens").toLocaleString()], ["cost", "$" + sum("cost_usd").toFixed(4)], ["partial", sum("partial_requests").toLocaleString()], ["errors", sum("error_requests").toLocaleString()]]
        .map(([label, value]) => { const div = document.createElement("div"); const b = document.createElement("b"); b.textContent = value; div.append(b, label); return div; }),
    );
    const tbody = $("limits").tBodies[0];
    tbody.replaceChildren();
    const left = (l) => (l ? l.remaining + " / " + l.limit : "no limit");
    for (const k of limits.data) {
      const b = k.budget;
      row(tbody, [cell(k.key), cell(left(k.limits && k.limits.rpm), true), cell(left(k.limits && k.limits.tpm), true),
        cell(k.limits && k.limits.concurrency ? k.limits.concurrency.in_flight + " / " + k.limits.concurrency.limit : "no limit", true),
        cell(b ? "$" + b.spent_usd.toFixed(4) + " of $" + b.usd + " per " + b.period : "no budget", true)]);
    }
    $("store").textContent = "Limit store: " + (limits.data[0] ? limits.data[0].store : "memory");
    const servers = $("servers").tBodies[0];
    servers.replaceChildren();
    for (const s of ready.mcpServers || []) row(servers, [cell(s.name), cell(s.state), cell(String(s.tools ?? ""), true)]);
    if (!(ready.mcpServers || []).length) row(servers, [cell("none configured"), cell(""), cell("")]);
  }
  if (${opts.needsKey} && !sessionStorage.getItem(KEY)) ask();
  else load();
})();
</script>
</body>
</html>
`;
}
