export { createIstioActuatorService } from "./actuator-service.ts";
export { istioActuatorConfig, istioActuatorSettings } from "./config.ts";
export type { IstioActuatorConfig } from "./config.ts";
