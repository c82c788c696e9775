export { createLabActuatorService } from "./actuator-service.ts";
export { labActuatorConfig, labActuatorSettings } from "./config.ts";
export type { LabActuatorConfig } from "./config.ts";
