import type { z } from "zod";
import { actuatorSettings, gitopsCommitSettings, kubeApiSettings } from "@meshloop/actuator-runtime";
import { connectionsConfig } from "@meshloop/connections";
import { commonConfig, envBool, envInt, envString } from "@meshloop/runtime";

/** The Linkerd actuator's variables (with those of every actuator, and of every Kubernetes one). */
export const linkerdActuatorSettings = {
  ...actuatorSettings,
  ...kubeApiSettings,
  MESHLOOP_ACTUATOR_GITOPS_DIR: envString({ example: "/var/lib/meshloop/gitops" })
    .optional()
    .describe("Set: write the translated Linkerd resources to this folder (one file per resource, for Argo CD or Flux to sync) instead of calling the Kubernetes API."),
  MESHLOOP_LINKERD_GITOPS_SERVICE_PORT: envInt({ min: 1, max: 65_535 })
    .optional()
    .describe("GitOps output only: the target Services' port that meshloop's HTTPRoutes attach to, and that the versions' Services are assumed to serve on, as the cluster is not read; unset: weights fail in GitOps output."),
  ...gitopsCommitSettings,
  MESHLOOP_CLUSTER_DOMAIN: envString({ example: "cluster.local" })
    .default("cluster.local")
    .describe("The cluster's DNS domain, which ends the name of a Service's ServiceProfile."),
  MESHLOOP_LINKERD_TRUST_DOMAIN: envString({ example: "cluster.local" })
    .default("cluster.local")
    .describe("Linkerd's identity trust domain: proxy identities end in identity.linkerd.<trust domain>."),
  MESHLOOP_LINKERD_ALLOW_LIST_FROM_OBSERVED_CALLERS: envBool()
    .default(false)
    .describe("Denying a caller of a target without an allow list builds one from the callers observed calling it, denying every caller not seen."),
};

export const linkerdActuatorConfig = commonConfig({ httpPort: 9105 }).extend({ ...connectionsConfig, ...linkerdActuatorSettings });
export type LinkerdActuatorConfig = z.infer<typeof linkerdActuatorConfig>;
