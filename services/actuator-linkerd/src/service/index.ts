export { createLinkerdActuatorService, gitopsContext } from "./actuator-service.ts";
export { linkerdActuatorConfig, linkerdActuatorSettings } from "./config.ts";
export type { LinkerdActuatorConfig } from "./config.ts";
