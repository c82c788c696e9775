export { createConsulActuatorService } from "./actuator-service.ts";
export { ConsulApplier } from "./consul-applier.ts";
export type { ConsulApplierOptions } from "./consul-applier.ts";
export { ConsulGitopsApplier, unreadConsul } from "./consul-gitops-applier.ts";
export type { ConsulGitopsApplierOptions } from "./consul-gitops-applier.ts";
export { consulActuatorConfig, consulActuatorSettings } from "./config.ts";
export type { ConsulActuatorConfig } from "./config.ts";
