export { createGateway, type Gateway, type GatewayOptions } from "./app.ts";
export { loadConfig, sha256, type LoadOptions } from "./config/load.ts";
export { ConfigError, type GatewayConfig } from "./config/types.ts";
export { GatewayError } from "./errors.ts";
export { DEMO_MODEL } from "./config/defaults.ts";
