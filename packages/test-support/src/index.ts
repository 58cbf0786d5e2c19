export { configFor, GATEWAY_BIN, runGateway, startGateway, startGatewayOverFakeUpstream, type GatewayProcess, type StartOptions } from "./gateway-process.ts";
export { callTool, cleanEnv, connectMcp, MCP_CLI, MCP_PACKAGE_DIR, runMcp, textOf, type ConnectOptions, type McpProcess } from "./mcp-process.ts";
export { rawExchange, type RawExchange, type RawOptions } from "./raw-http.ts";
export { runToExit, type RunResult } from "./run-to-exit.ts";
export { apiErrorOf } from "./api-error.ts";
export { SERVER_EVERYTHING, waitForMcpServers } from "./mcp-servers.ts";
export { startMcpHttp, type McpHttpProcess } from "./mcp-http-process.ts";
export { runConformance, runConformanceSuite, type ConformanceCheck, type ConformanceRun } from "./conformance.ts";
export { conformanceFixtureServer, startConformanceFixture, type ConformanceFixture } from "./conformance-fixture.ts";
