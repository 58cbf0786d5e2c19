export * from "./error-body.ts";
export * from "./json-depth.ts";
export * from "./retry-rule.ts";
export * from "./scrub.ts";
export * from "./sse.ts";
export * from "./usage.ts";
