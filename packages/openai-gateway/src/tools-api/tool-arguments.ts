/**
 * Checks a REST call's arguments against the tool's input schema before the call is made, so that a
 * client gets a 422 naming the field instead of a tool error in the tool's own words. Ajv, the JSON
 * Schema validator Fastify itself uses, in the dialect the schema declares (draft-07 by default, as
 * MCP servers write them; 2020-12 when it says so), with ajv-formats for `format` (a `uri` the
 * server would refuse is a 422 here, not its isError); a format neither knows is not checked.
 * Compiled once per schema; the cache is bounded, since servers may change their tools at will.
 */
import { createHash } from "node:crypto";
import { Ajv, type ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import ajvFormats from "ajv-formats";
import { GatewayError } from "../errors.ts";

// logger: false: Ajv warns about an unknown format on the console, which is not our log.
const options = { strict: false, allErrors: false, allowUnionTypes: true, logger: false } as const;
const MAX_COMPILED = 1000;
// ajv-formats is CommonJS with `exports.default`: under NodeNext its default import is typed as the whole module.
const addFormats = (ajvFormats as unknown as { default: (ajv: Ajv) => Ajv }).default;
let draft07: Ajv | undefined;
let draft2020: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction | "unusable">();

/** Throws a 422 naming the first field the schema rejects; a schema Ajv cannot compile lets the server judge. */
export function checkArguments(tool: string, schema: Record<string, unknown>, args: unknown): void {
  const validate = validatorFor(schema);
  if (validate === "unusable" || validate(args)) return;
  const e = validate.errors?.[0];
  const at = (e?.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".");
  const field = e?.keyword === "required" ? [at, String((e.params as { missingProperty?: string }).missingProperty)].filter(Boolean).join(".") : at;
  const message = e?.keyword === "required" ? `Missing required argument '${field}'` : `Invalid value for '${field || "(the arguments)"}': ${e?.message ?? "rejected by the schema"}`;
  throw new GatewayError(422, `${message} (tool ${tool}).`, { param: field || null, code: "invalid_arguments" });
}

function validatorFor(schema: Record<string, unknown>): ValidateFunction | "unusable" {
  const key = createHash("sha256").update(JSON.stringify(schema)).digest("hex");
  let v = compiled.get(key);
  if (v === undefined) {
    try {
      const is2020 = typeof schema.$schema === "string" && schema.$schema.includes("2020-12");
      const ajv = is2020 ? (draft2020 ??= withFormats(new Ajv2020(options))) : (draft07 ??= withFormats(new Ajv(options)));
      // The $schema and $id of one tool must not clash with another's in the shared instance.
      const { $schema: _s, $id: _i, ...body } = schema;
      v = ajv.compile(body);
    } catch {
      v = "unusable";
    }
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(key, v);
  }
  return v;
}

function withFormats<T extends Ajv | Ajv2020>(ajv: T): T {
  addFormats(ajv as Ajv);
  return ajv;
}
