export { createConsoleService, GLOBAL_STATE_KEY } from "../console-service.ts";
export type { ConsoleService, ConsoleSnapshot } from "../console-service.ts";
export { consoleConfig, consoleSettings } from "./config.ts";
export type { ConsoleConfig } from "./config.ts";
