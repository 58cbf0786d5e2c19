/**
 * /dashboard and its one asset, Chart.js's UMD build from its npm package. Both need no key: the
 * page holds no data and asks for an admin key before it reads any (see dashboard-page.ts).
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { dashboardPage } from "../../dashboard/dashboard-page.ts";

const ASSETS = "/dashboard/assets";

export async function dashboardRoutes(app: FastifyInstance, deps: { needsKey: boolean }): Promise<void> {
  // The package exports no package.json: its main file lives in dist/, beside the UMD build.
  const chartJs = dirname(createRequire(import.meta.url).resolve("chart.js"));
  // Only the one file the page loads, not the package's whole dist folder.
  await app.register(fastifyStatic, { root: chartJs, prefix: `${ASSETS}/`, decorateReply: false, index: false, allowedPath: (path) => path === "/chart.umd.js" });
  const page = dashboardPage({ assets: ASSETS, needsKey: deps.needsKey });
  app.get("/dashboard", (_request, reply) => reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(page));
}
