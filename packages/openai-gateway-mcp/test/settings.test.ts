/**
 * The MCP server's defaults against the gateway's: a plain chat answer arrives whole, so the
 * MCP server's TIMEOUT per attempt must not cut a generation the gateway is still willing to wait for.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig } from "@mcpgw/openai-gateway";
import { readSettings } from "../src/settings.ts";

test("TIMEOUT's default lets a generation run as long as the gateway's own first-byte limit", () => {
  const gateway = loadConfig({ env: {} });
  const ours = readSettings({}, { GATEWAY_URL: "http://127.0.0.1:8080", GATEWAY_API_KEY: "k" });
  assert.ok(ours.ok, JSON.stringify(ours));
  assert.ok(
    ours.settings.timeoutMs >= gateway.timeouts.firstByteMs,
    `TIMEOUT defaults to ${ours.settings.timeoutMs / 1000} s; the gateway waits ${gateway.timeouts.firstByteMs / 1000} s for a first byte`,
  );
});
