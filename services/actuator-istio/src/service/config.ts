import type { z } from "zod";
import { actuatorSettings, gitopsCommitSettings, kubeApiSettings } from "@meshloop/actuator-runtime";
import { connectionsConfig } from "@meshloop/connections";
import { commonConfig, envString } from "@meshloop/runtime";

/** The Istio actuator's variables (with those of every actuator, and of every Kubernetes one). */
export const istioActuatorSettings = {
  ...actuatorSettings,
  ...kubeApiSettings,
  ...gitopsCommitSettings,
  MESHLOOP_ACTUATOR_GITOPS_DIR: envString({ example: "/var/lib/meshloop/gitops" })
    .optional()
    .describe("Set: write the translated Istio resources to this folder (one file per resource, for Argo CD or Flux to sync) instead of calling the Kubernetes API."),
  MESHLOOP_ISTIO_VERSION: envString({ pattern: /^\d+\.\d+(\.\d+)?$/, example: "1.27.1" })
    .optional()
    .describe("istiod's version, when older than the retry budget (1.26); unset: current."),
  MESHLOOP_CLUSTER_DOMAIN: envString({ example: "cluster.local" })
    .default("cluster.local")
    .describe("The cluster's DNS domain, for service hosts."),
};

export const istioActuatorConfig = commonConfig({ httpPort: 9104 }).extend({ ...connectionsConfig, ...istioActuatorSettings });
export type IstioActuatorConfig = z.infer<typeof istioActuatorConfig>;
