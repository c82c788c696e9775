import type { z } from "zod";
import { actuatorSettings } from "@meshloop/actuator-runtime";
import { connectionsConfig } from "@meshloop/connections";
import { commonConfig, envString, envUrl } from "@meshloop/runtime";

/** The lab actuator's variables (with those of every actuator). */
export const labActuatorSettings = {
  ...actuatorSettings,
  MESHLOOP_LAB_ADMIN_URL: envUrl({ example: "http://127.0.0.1:9190" })
    .default("http://127.0.0.1:9190")
    .describe("The mesh lab's admin API, where the lab actuator PUTs each target's desired state (/admin/v1/targets/{namespace}/{service})."),
  MESHLOOP_LAB_ADMIN_TOKEN_FILE: envString({ example: "/var/run/secrets/meshloop/lab-admin-token" })
    .optional()
    .describe("A file holding the bearer token of the lab's admin API, read on every request (rotation needs no restart); unset: no token is sent."),
};

export const labActuatorConfig = commonConfig({ httpPort: 9107 }).extend({ ...connectionsConfig, ...labActuatorSettings });
export type LabActuatorConfig = z.infer<typeof labActuatorConfig>;
