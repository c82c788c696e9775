export { connectionsConfig, readSecretFile } from "./connections-config.ts";
export type { ConnectionsConfig } from "./connections-config.ts";
export { openConnections } from "./connections.ts";
export type { Connections, OpenConnectionsOptions } from "./connections.ts";
