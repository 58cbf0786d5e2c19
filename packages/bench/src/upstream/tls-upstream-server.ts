/**
 * The HTTPS upstream of the traffic-shapes scenario as its own process (started by shaped-upstream.ts):
 *
 *   node tls-upstream-server.ts --port 0 --api-key KEY --cert server.pem --key server.key
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { createShapedServer } from "./shaped-upstream.ts";

const { values } = parseArgs({ options: { port: { type: "string", default: "0" }, "api-key": { type: "string" }, cert: { type: "string" }, key: { type: "string" } } });
if (!values["api-key"] || !values.cert || !values.key) throw new Error("--api-key, --cert and --key are required");
const { server } = createShapedServer(values["api-key"], { cert: readFileSync(values.cert, "utf8"), key: readFileSync(values.key, "utf8") });
server.listen(Number(values.port), "127.0.0.1", () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`listening on https://127.0.0.1:${port}\n`);
});
process.on("SIGTERM", () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
