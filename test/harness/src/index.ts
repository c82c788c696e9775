export { acquireInfra, privateKafka } from "./infra.ts";
export type { InfraEndpoints, InfraLease, PrivateKafka } from "./infra.ts";
export { processAlive, withFileLock } from "./lock.ts";
export { uniqueName } from "./names.ts";
export { eventually } from "./wait.ts";
export { desiredStates, shuffledKeys } from "./desired-states.ts";
export { serviceEnv } from "./service-env.ts";
