export * from "./endpoint.ts";
export * from "./event-store.ts";
export * from "./request-guard.ts";
