/**
 * `models` and `passthrough`: the public model names and the upstream targets that serve them. A
 * model is a target, a list of targets (fallback order), or an object that also gives it MCP tools
 * (the gateway then runs the tool loop for it).
 */
import { z } from "zod";
import { DEFAULT_MAX_TOOL_ROUNDS } from "../defaults.ts";
import { keyLimits } from "./limits.ts";

const target = z.union([
  z.string().regex(/^[^/]+\/.+$/, "expected 'provider/model'"),
  z.strictObject({ provider: z.string().min(1), model: z.string().min(1) }),
]);

const targets = z.union([target, z.array(target).min(1)]);

/** A model with settings: its targets, and MCP tools (the gateway runs the tool loop for it) or limits of its own. */
export const toolModel = z.strictObject({
  targets: targets.describe("the upstream targets, as for any model: tried in order"),
  tools: z.array(z.string().min(1)).optional().describe("tool selectors: `server`, `server/tool`, `server/prefix*` or `*`"),
  instructions: z.string().min(1).optional().describe("a system message put before the conversation"),
  maxToolRounds: z.number().int().min(1).max(50).optional().describe(`rounds of tool calls before the model must answer (default ${DEFAULT_MAX_TOOL_ROUNDS})`),
  toolDisplay: z.enum(["none", "details"]).optional().describe("details: Open WebUI tool cards in the streamed text"),
  limits: keyLimits.optional().describe("limits of the model itself, shared by every key that uses it"),
});

export const modelsSection = z.record(z.string().min(1), z.union([target, z.array(target).min(1), toolModel])).default({});

export const passthroughSection = z.string().optional().describe("Provider that receives model names no alias matches");
