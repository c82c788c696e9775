export { Actuator } from "./actuator.ts";
export type { ActuatorOptions } from "./actuator.ts";
export type { ApplyOptions, ApplyOutcome, MeshApplier } from "./applier.ts";
export { actuatorSettings } from "./config.ts";
export { AppliedGenerations } from "./generations.ts";
export { actuationResult, planFor, settles } from "./plan.ts";
export type { Plan } from "./plan.ts";
export { GitopsApplier } from "./gitops-applier.ts";
export type { GitopsApplierOptions } from "./gitops-applier.ts";
