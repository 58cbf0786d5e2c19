/** `tools`: how the gateway treats MCP tools' output. */
import { z } from "zod";

export const toolsSection = z
  .strictObject({
    resultLimitBytes: z.number().int().min(1024).optional().describe("largest tool result fed to a model; the rest is cut"),
    keepaliveMs: z.number().int().min(500).max(10_000).optional().describe("gap between SSE keepalive comments while tools run"),
    publicDocs: z.boolean().optional().describe("the OpenAPI specs and docs pages list every tool without a key (calls still need one)"),
  })
  .default({});
