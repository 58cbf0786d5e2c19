/**
 * The official MCP conformance suite (@modelcontextprotocol/conformance, pinned) against
 * openai-gateway-mcp over Streamable HTTP on loopback, without keys (the suite cannot send one).
 * Every scenario that applies to any server is run: the others ask for the suite's reference
 * fixture by name (tools test_simple_text..., resources test://..., prompts test_simple_prompt...),
 * which this server is not. A scenario passes when none of its checks is a failure or a warning.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { FakeUpstream } from "@mcpgw/fake-upstream";
import { runConformance, startGatewayOverFakeUpstream, startMcpHttp, type GatewayProcess, type McpHttpProcess } from "@mcpgw/test-support";

/** What any server with tools, prompts, resources and logging must pass; each needs nothing of the fixture's. */
const SCENARIOS = ["server-initialize", "ping", "logging-set-level", "tools-list", "prompts-list", "resources-list", "server-sse-multiple-streams", "dns-rebinding-protection"];

let upstream: FakeUpstream;
let gateway: GatewayProcess;
let server: McpHttpProcess;

before(async () => {
  ({ upstream, gateway } = await startGatewayOverFakeUpstream({ upstreamKey: "upstream-conformance-0123456789", clientKey: "conformance-gateway-key" }));
  server = await startMcpHttp({ env: { GATEWAY_URL: gateway.origin, GATEWAY_API_KEY: "conformance-gateway-key" } });
});
after(async () => {
  await server?.stop();
  await gateway?.stop();
  await upstream?.close();
});

for (const scenario of SCENARIOS) {
  test(`conformance: ${scenario}`, { timeout: 60_000 }, async () => {
    const { code, checks, problems, output } = await runConformance(server.url, scenario);
    assert.ok(checks.length > 0, `the suite wrote no checks:\n${output}`);
    assert.deepEqual(problems, [], output);
    assert.equal(code, 0, output);
  });
}
