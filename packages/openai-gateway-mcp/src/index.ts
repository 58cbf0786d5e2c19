export { createServer } from "./server.ts";
export { readSettings, SETTINGS, type Settings, type SettingsResult } from "./settings.ts";
