/**
 * OpenAPI 3.1 documents of the MCP tools a key may use, generated from the live tool list: one per
 * server (paths `/{tool}`, operationId the tool's own name: what an mcpo user's Open WebUI already
 * has) and one for all of them (paths `/{server}/{tool}`, operationId `{server}__{tool}`). Open WebUI
 * makes a tool of every operation with an operationId and sends the arguments as the JSON body.
 *
 * A tool's input schema is kept whole under components.schemas and referred to from the request
 * body: its local references (`#/$defs/...`, `#/definitions/...`, `#/properties/...`) are rewritten
 * to point into that copy, since inside an OpenAPI document `#` is the document, not the schema.
 */
import type { CatalogTool } from "../mcp/clients/types.ts";

export interface SpecOptions {
  title: string;
  description: string;
  version: string;
  /** Where the paths are served: /tools/{server} or /tools. */
  baseUrl: string;
  /** The path of a tool below baseUrl, and its operationId. */
  pathOf(tool: CatalogTool): string;
  operationIdOf(tool: CatalogTool): string;
}

const ERROR = { $ref: "#/components/schemas/Error" };

export function toolsOpenApi(tools: CatalogTool[], opts: SpecOptions): Record<string, unknown> {
  const schemas: Record<string, unknown> = {
    Error: {
      type: "object",
      description: "OpenAI's error shape, which every answer but a 200 has.",
      required: ["error"],
      properties: {
        error: {
          type: "object",
          required: ["message", "type"],
          properties: { message: { type: "string" }, type: { type: "string" }, param: { type: ["string", "null"] }, code: { type: ["string", "null"] } },
        },
      },
    },
  };
  const paths: Record<string, unknown> = {};
  for (const tool of tools) {
    const id = opts.operationIdOf(tool);
    const key = schemaKey(id);
    schemas[`${key}_arguments`] = portable(tool.inputSchema, `#/components/schemas/${key}_arguments`);
    const answer = tool.outputSchema ? ((schemas[`${key}_result`] = portable(tool.outputSchema, `#/components/schemas/${key}_result`)), { $ref: `#/components/schemas/${key}_result` }) : {};
    paths[opts.pathOf(tool)] = {
      post: {
        operationId: id,
        summary: tool.title ?? tool.name,
        description: describe(tool),
        tags: [tool.server],
        requestBody: { required: true, content: { "application/json": { schema: { $ref: `#/components/schemas/${key}_arguments` } } } },
        responses: {
          "200": { description: "The tool's result: its structuredContent, or its text (parsed when it is JSON), or its content items", content: { "application/json": { schema: answer } } },
          "401": errorResponse("No API key, or a wrong one"),
          "404": errorResponse("No such tool, or not one this key may use"),
          "422": errorResponse("Arguments the tool's input schema rejects (param names the field)"),
          "424": errorResponse("The tool ran and reported an error (isError): the message is the tool's own"),
          "503": errorResponse("The tool's MCP server is not connected"),
          "504": errorResponse("The tool did not answer within the server's toolTimeoutMs"),
        },
        ...(tool.annotations ? { "x-mcp-annotations": tool.annotations } : {}),
      },
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: opts.title, description: opts.description, version: opts.version },
    servers: [{ url: opts.baseUrl }],
    security: [{ bearerAuth: [] }],
    paths,
    components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "A client key of the gateway" } }, schemas },
  };
}

function errorResponse(description: string) {
  return { description, content: { "application/json": { schema: ERROR } } };
}

/** The description, with what the tool's annotations promise, which a caller wants to know first. */
function describe(tool: CatalogTool): string {
  const a = tool.annotations ?? {};
  const marks = [
    a.readOnlyHint ? "read-only" : undefined,
    a.destructiveHint === true && !a.readOnlyHint ? "destructive" : undefined,
    a.idempotentHint ? "idempotent" : undefined,
    a.openWorldHint ? "reaches the outside world" : undefined,
  ].filter(Boolean);
  const base = tool.description ?? `Tool ${tool.tool} of the MCP server ${tool.server}.`;
  return marks.length > 0 ? `${base}\n\n**${marks.join(" · ")}** (MCP server ${tool.server})` : `${base}\n\n(MCP server ${tool.server})`;
}

/** components.schemas keys must match ^[a-zA-Z0-9._-]+$. */
function schemaKey(id: string): string {
  return id.replace(/[^a-zA-Z0-9._-]/g, "_");
}

/** A copy of a tool's schema that means the same at `at` inside an OpenAPI 3.1 document. */
function portable(schema: Record<string, unknown>, at: string): Record<string, unknown> {
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!value || typeof value !== "object") return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith("#")) out[k] = `${at}${v.slice(1)}`;
      else if (k === "$schema" || k === "$id") continue; // the document's dialect (2020-12) governs
      else out[k] = rewrite(v);
    }
    return out;
  };
  const copy = rewrite(schema) as Record<string, unknown>;
  return copy.type === undefined && copy.properties !== undefined ? { type: "object", ...copy } : copy;
}
