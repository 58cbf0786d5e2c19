export * from "./model-backend.ts";
export * from "./tool-failure.ts";
export * from "./register.ts";
export { InvalidToolArguments, modelToolSet, type ModelToolSet } from "./tool-set.ts";
