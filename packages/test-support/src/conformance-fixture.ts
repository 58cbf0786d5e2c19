/**
 * The MCP conformance suite's reference fixture, written from the suite's published scenario
 * descriptions (@modelcontextprotocol/conformance 0.1.16): the tools, resources and prompts its
 * scenarios ask for by name (test_simple_text, test://static-text, test_simple_prompt...). Tests put
 * it behind the gateway as a backend and run the whole suite through /mcp/{server}: what passes
 * there was relayed faithfully. Served over Streamable HTTP on 127.0.0.1 by @mcpgw/mcp-http, a
 * server and transport per session.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { McpHttpEndpoint } from "@mcpgw/mcp-http";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

const PNG_1x1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/** A minimal WAV: 44-byte header, 8 kHz mono 8-bit, 8 samples of silence. */
const WAV = (() => {
  const n = 8;
  const b = Buffer.alloc(44 + n);
  b.write("RIFF", 0);
  b.writeUInt32LE(36 + n, 4);
  b.write("WAVE", 8);
  b.write("fmt ", 12);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(8000, 28);
  b.writeUInt16LE(1, 32);
  b.writeUInt16LE(8, 34);
  b.write("data", 36);
  b.writeUInt32LE(n, 40);
  b.fill(128, 44);
  return b.toString("base64");
})();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (t: string) => ({ content: [{ type: "text" as const, text: t }] });

/** The suite's reference server, as its scenarios describe it: every tool, resource and prompt they name. */
export function conformanceFixtureServer(): McpServer {
  const mcp = new McpServer({ name: 'conformance-fixture', version: '1.0.0' },
    { capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } } });

  // ---- tools
  mcp.registerTool('test_simple_text', { description: 'Returns simple text' },
    async () => text('This is a simple text response for testing.'));
  mcp.registerTool('test_image_content', { description: 'Returns an image' },
    async () => ({ content: [{ type: 'image', data: PNG_1x1, mimeType: 'image/png' }] }));
  mcp.registerTool('test_audio_content', { description: 'Returns audio' },
    async () => ({ content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] }));
  mcp.registerTool('test_embedded_resource', { description: 'Returns an embedded resource' },
    async () => ({ content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] }));
  mcp.registerTool('test_multiple_content_types', { description: 'Returns text, image and resource' },
    async () => ({ content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG_1x1, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
    ] }));
  mcp.registerTool('test_tool_with_logging', { description: 'Sends 3 log notifications' }, async (extra) => {
    const log = (data: string) => extra.sendNotification({ method: 'notifications/message', params: { level: 'info', logger: 'conformance', data } });
    await log('Tool execution started'); await sleep(50);
    await log('Tool processing data'); await sleep(50);
    await log('Tool execution completed');
    return text('Tool with logging executed successfully');
  });
  mcp.registerTool('test_error_handling', { description: 'Always fails' }, async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  mcp.registerTool('test_tool_with_progress', { description: 'Reports progress 0/50/100' }, async (extra) => {
    const token = extra._meta?.progressToken;
    for (const [i, p] of [0, 50, 100].entries()) {
      if (i) await sleep(50);
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: p, total: 100, message: `step ${p}` } });
    }
    return text('Tool with progress executed successfully');
  });
  mcp.registerTool('test_sampling', { description: 'Requests sampling', inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') } },
    async ({ prompt }, extra) => {
      const r = await mcp.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 }, { relatedRequestId: extra.requestId });
      return text(`LLM response: ${r.content?.type === 'text' ? r.content.text : JSON.stringify(r.content)}`);
    });
  mcp.registerTool('test_elicitation', { description: 'Requests elicitation', inputSchema: { message: z.string().describe('The message to show the user') } },
    async ({ message }, extra) => {
      const r = await mcp.server.elicitInput({ message, requestedSchema: { type: 'object', properties: {
        username: { type: 'string', description: "User's response" },
        email: { type: 'string', description: "User's email address" } }, required: ['username', 'email'] } },
        { relatedRequestId: extra.requestId });
      return text(`User response: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
    });
  mcp.registerTool('test_elicitation_sep1034_defaults', { description: 'Elicitation with defaults (SEP-1034)' }, async (extra) => {
    const r = await mcp.server.elicitInput({ message: 'Please review and update the form fields with defaults', requestedSchema: { type: 'object', properties: {
      name: { type: 'string', description: 'User name', default: 'John Doe' },
      age: { type: 'integer', description: 'User age', default: 30 },
      score: { type: 'number', description: 'User score', default: 95.5 },
      status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
      verified: { type: 'boolean', description: 'Verification status', default: true } }, required: [] } },
      { relatedRequestId: extra.requestId });
    return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
  });
  mcp.registerTool('test_elicitation_sep1330_enums', { description: 'Elicitation with enum variants (SEP-1330)' }, async (extra) => {
    const r = await mcp.server.elicitInput({ message: 'Please select options from the enum fields', requestedSchema: { type: 'object', properties: {
      untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
      titledSingle: { type: 'string', description: 'Select one option with titles', oneOf: [
        { const: 'value1', title: 'First Option' }, { const: 'value2', title: 'Second Option' }, { const: 'value3', title: 'Third Option' }] },
      legacyEnum: { type: 'string', description: 'Select one option (legacy)', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
      untitledMulti: { type: 'array', description: 'Select multiple options', minItems: 1, maxItems: 3, items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
      titledMulti: { type: 'array', description: 'Select multiple options with titles', minItems: 1, maxItems: 3, items: { anyOf: [
        { const: 'value1', title: 'First Choice' }, { const: 'value2', title: 'Second Choice' }, { const: 'value3', title: 'Third Choice' }] } },
    }, required: [] } }, { relatedRequestId: extra.requestId });
    return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
  });
  // JSON Schema 2020-12 (SEP-1613): zod v4 .meta() keys are merged into the emitted JSON Schema
  const address = { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } };
  mcp.registerTool('json_schema_2020_12_tool', {
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: z.strictObject({
      name: z.string().optional(),
      address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional().meta({ $ref: '#/$defs/address' }),
    }).meta({ $schema: 'https://json-schema.org/draft/2020-12/schema', $defs: { address } }),
  }, async (args) => text(`json_schema_2020_12_tool called with ${JSON.stringify(args)}`));
  mcp.registerTool('test_reconnection', { description: 'Closes the SSE stream mid-call (SEP-1699)' }, async (extra) => {
    await sleep(100);
    extra.closeSSEStream?.(); // only defined with an eventStore AND client protocol >= 2025-11-25
    await sleep(200);
    return text('Reconnection test completed successfully');
  });

  // ---- resources
  mcp.registerResource('static-text', 'test://static-text', { description: 'Static text resource', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }));
  mcp.registerResource('static-binary', 'test://static-binary', { description: 'Static binary resource', mimeType: 'image/png' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_1x1 }] }));
  mcp.registerResource('watched-resource', 'test://watched-resource', { description: 'Subscribable resource', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content' }] }));
  mcp.registerResource('template', new ResourceTemplate('test://template/{id}/data', { list: undefined }),
    { description: 'Template resource', mimeType: 'application/json' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] }));
  const subs = new Set();
  mcp.server.setRequestHandler(SubscribeRequestSchema, async (req) => { subs.add(req.params.uri); return {}; });
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => { subs.delete(req.params.uri); return {}; });

  // ---- prompts
  mcp.registerPrompt('test_simple_prompt', { description: 'Simple prompt' },
    () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] }));
  mcp.registerPrompt('test_prompt_with_arguments', { description: 'Prompt with arguments', argsSchema: {
      arg1: completable(z.string().describe('First test argument'), (v) => ['paris', 'park', 'party', 'test', 'testValue'].filter((s) => s.startsWith(v ?? ''))),
      arg2: z.string().describe('Second test argument') } },
    ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }));
  mcp.registerPrompt('test_prompt_with_embedded_resource', { description: 'Prompt with embedded resource', argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') } },
    ({ resourceUri }) => ({ messages: [
      { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
      { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } }] }));
  mcp.registerPrompt('test_prompt_with_image', { description: 'Prompt with image' },
    () => ({ messages: [
      { role: 'user', content: { type: 'image', data: PNG_1x1, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } }] }));
  return mcp;
}

export interface ConformanceFixture {
  /** http://127.0.0.1:PORT/mcp */
  url: string;
  close(): Promise<void>;
}

/** The fixture on a free port of 127.0.0.1, until close(). */
export async function startConformanceFixture(): Promise<ConformanceFixture> {
  const endpoint = new McpHttpEndpoint({
    realm: "conformance-fixture",
    loopback: true,
    allowedOrigins: [],
    authenticate: () => ({ id: "anyone" }),
    createServer: () => conformanceFixtureServer(),
    idleMs: 10 * 60_000,
    maxSessions: 500,
  });
  const http: HttpServer = createServer((req, res) => void endpoint.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async close() {
      await endpoint.close();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
