import type { z } from "zod";
import { actuatorSettings } from "@meshloop/actuator-runtime";
import { connectionsConfig } from "@meshloop/connections";
import { commonConfig, envString } from "@meshloop/runtime";

/** The Istio actuator's variables (with those of every actuator). */
export const istioActuatorSettings = {
  ...actuatorSettings,
  MESHLOOP_ACTUATOR_GITOPS_DIR: envString({ example: "/var/lib/meshloop/gitops" })
    .describe("The folder the translated Istio resources are written to (the gitops output: one file per resource, synced to the cluster by Argo CD or Flux). Writing through the Kubernetes API is not built yet."),
};

export const istioActuatorConfig = commonConfig({ httpPort: 9104 }).extend({ ...connectionsConfig, ...istioActuatorSettings });
export type IstioActuatorConfig = z.infer<typeof istioActuatorConfig>;
