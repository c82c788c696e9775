import type { z } from "zod";
import { actuatorSettings, gitopsCommitSettings } from "@meshloop/actuator-runtime";
import { connectionsConfig } from "@meshloop/connections";
import { commonConfig, envString, envUrl } from "@meshloop/runtime";

// Consul Enterprise namespace and partition names: DNS labels.
const CONSUL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** The Consul actuator's variables (with those of every actuator). */
export const consulActuatorSettings = {
  ...actuatorSettings,
  MESHLOOP_CONSUL_ADDR: envUrl({ example: "http://127.0.0.1:8500" })
    .default("http://127.0.0.1:8500")
    .describe("The Consul agent or server's HTTP API (https for a TLS listener); config entries are read and written there with check-and-set."),
  MESHLOOP_CONSUL_TOKEN_FILE: envString({ example: "/var/run/secrets/consul/token" })
    .optional()
    .describe("A file holding the ACL token (service:write, intentions:write), read on every request so a rotation takes effect at once; the token is never logged. Unset: no token is sent."),
  MESHLOOP_CONSUL_NAMESPACE: envString({ pattern: CONSUL_NAME, example: "team-a" })
    .optional()
    .describe("Consul Enterprise: the namespace of the targets' config entries. Unset on Consul CE."),
  MESHLOOP_CONSUL_PARTITION: envString({ pattern: CONSUL_NAME, example: "default" })
    .optional()
    .describe("Consul Enterprise: the admin partition of the targets' config entries. Unset on Consul CE."),
  MESHLOOP_ACTUATOR_GITOPS_DIR: envString({ example: "/var/lib/meshloop/gitops" })
    .optional()
    .describe("When set, config entries are written as JSON files to this folder (one per entry, synced by a GitOps tool) instead of through Consul's API."),
  ...gitopsCommitSettings,
};

export const consulActuatorConfig = commonConfig({ httpPort: 9106 }).extend({ ...connectionsConfig, ...consulActuatorSettings });
export type ConsulActuatorConfig = z.infer<typeof consulActuatorConfig>;
