/**
 * The interactive docs page of a tools spec: Swagger UI from the swagger-ui-dist package, served by
 * the gateway itself (no CDN: the page works without internet). The page opens without a key; unless
 * the docs are public it asks for one first, keeps it in this browser only (localStorage), fetches
 * the spec with it (a key sees only the tools it may use) and sends it with every "try it" call.
 */
export function docsPage(opts: { title: string; specUrl: string; assets: string; publicDocs: boolean }): string {
  const config = JSON.stringify({ specUrl: opts.specUrl, publicDocs: opts.publicDocs }).replace(/</g, "\\u003c");
  const title = opts.title.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${opts.assets}/swagger-ui.css">
<style>
  body { margin: 0; font-family: sans-serif; }
  #mcpgw-key { max-width: 40rem; margin: 3rem auto; padding: 1.5rem; border: 1px solid #ccc; border-radius: 6px; }
  #mcpgw-key input { width: 100%; padding: .5rem; margin: .5rem 0; box-sizing: border-box; }
  #mcpgw-bar { padding: .4rem 1rem; background: #f4f4f4; font-size: .85rem; text-align: right; }
  .mcpgw-problem { color: #b00; }
</style>
</head>
<body>
<div id="mcpgw-key" hidden>
  <h2>${title}</h2>
  <form id="mcpgw-key-form">
    <label for="mcpgw-key-input">A client key of this gateway: the page then shows the tools that key may use.</label>
    <input id="mcpgw-key-input" type="password" autocomplete="off" placeholder="client key" required>
    <button type="submit">Show my tools</button>
  </form>
  <p>The key stays in this browser (localStorage); the gateway never puts it in the page.</p>
  <p id="mcpgw-key-problem" class="mcpgw-problem" hidden></p>
</div>
<div id="mcpgw-bar" hidden><a href="#" id="mcpgw-forget">Use another key</a></div>
<div id="swagger"></div>
<script src="${opts.assets}/swagger-ui-bundle.js"></script>
<script>
(() => {
  const config = ${config};
  const KEY = "mcpgw-tools-key";
  const $ = (id) => document.getElementById(id);
  const ask = (problem) => {
    $("mcpgw-key").hidden = false;
    if (problem) { $("mcpgw-key-problem").textContent = problem; $("mcpgw-key-problem").hidden = false; }
  };
  $("mcpgw-key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    localStorage.setItem(KEY, $("mcpgw-key-input").value.trim());
    location.reload();
  });
  $("mcpgw-forget").addEventListener("click", (e) => { e.preventDefault(); localStorage.removeItem(KEY); location.reload(); });
  const key = localStorage.getItem(KEY);
  if (!key && !config.publicDocs) return ask();
  fetch(config.specUrl, { headers: key ? { authorization: "Bearer " + key } : {} }).then(async (res) => {
    if (res.status === 401 || res.status === 403) { localStorage.removeItem(KEY); return ask("That key was refused: try another."); }
    if (!res.ok) return ask("The gateway answered " + res.status + ": " + (await res.text()).slice(0, 200));
    const spec = await res.json();
    $("mcpgw-bar").hidden = !key;
    const ui = SwaggerUIBundle({
      spec,
      dom_id: "#swagger",
      tryItOutEnabled: true,
      // The key of the page goes with every call, unless Authorize gave one of its own.
      requestInterceptor: (req) => {
        const k = localStorage.getItem(KEY);
        if (k && !req.headers.Authorization && !req.headers.authorization) req.headers.Authorization = "Bearer " + k;
        return req;
      },
    });
    window.mcpgwDocs = ui;
  }, (err) => ask("The gateway could not be reached: " + err));
})();
</script>
</body>
</html>
`;
}
