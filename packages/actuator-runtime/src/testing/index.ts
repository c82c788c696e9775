export { startActuator } from "./actuator-harness.ts";
export type { ActuatorHarnessOptions, RunningActuator } from "./actuator-harness.ts";
