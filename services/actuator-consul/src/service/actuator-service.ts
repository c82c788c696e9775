import { actuatorService, gitopsCommitAuthor } from "@meshloop/actuator-runtime";
import type { MeshApplier } from "@meshloop/actuator-runtime";
import type { Bus } from "@meshloop/bus";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import { ConsulClient } from "../api/consul-client.ts";
import { ConsulApiError } from "../api/consul-errors.ts";
import { ConsulApplier } from "./consul-applier.ts";
import { ConsulGitopsApplier } from "./consul-gitops-applier.ts";
import type { ConsulActuatorConfig } from "./config.ts";

/** The Consul Enterprise scope the config names; empty on Consul CE. */
function scopeOf(config: ConsulActuatorConfig): { namespace?: string; partition?: string } {
  return {
    ...(config.MESHLOOP_CONSUL_NAMESPACE === undefined ? {} : { namespace: config.MESHLOOP_CONSUL_NAMESPACE }),
    ...(config.MESHLOOP_CONSUL_PARTITION === undefined ? {} : { partition: config.MESHLOOP_CONSUL_PARTITION }),
  };
}

/**
 * The Consul actuator: decisions for Consul targets in, config entries out (through Consul's HTTP API, or as files
 * in the GitOps folder when one is configured), results on the actuations topic.
 */
export function createConsulActuatorService(context: ServiceContext<ConsulActuatorConfig>, shared?: { bus?: Bus; store?: StateStore }): Service {
  const { config, logger } = context;
  const scope = scopeOf(config);
  const gitopsDir = config.MESHLOOP_ACTUATOR_GITOPS_DIR;
  const commit = gitopsCommitAuthor(config, gitopsDir);
  let applier: MeshApplier;
  let client: ConsulClient | null = null;
  if (gitopsDir === undefined) {
    client = new ConsulClient({
      address: config.MESHLOOP_CONSUL_ADDR,
      ...(config.MESHLOOP_CONSUL_TOKEN_FILE === undefined ? {} : { tokenFile: config.MESHLOOP_CONSUL_TOKEN_FILE }),
      ...scope,
      logger: logger.child({ component: "consul" }),
    });
    applier = new ConsulApplier({ client, read: scope, logger: logger.child({ component: "consul-apply" }) });
  } else {
    applier = new ConsulGitopsApplier({ directory: gitopsDir, ...scope, commit });
  }
  if (client !== null) {
    const consul = client;
    // Without a leader Consul can neither serve consistent reads nor commit a write: no decision could be applied.
    context.ops.addReadinessCheck("consul", async (signal) => {
      const leader = await consul.leader({ signal });
      if (leader === "") throw new ConsulApiError(`Consul at ${config.MESHLOOP_CONSUL_ADDR} has no leader`, { retriable: true, context: { address: config.MESHLOOP_CONSUL_ADDR } });
    });
  }
  const output = gitopsDir === undefined ? { address: config.MESHLOOP_CONSUL_ADDR, ...scope } : { directory: gitopsDir, commit: commit !== null, ...scope };
  return actuatorService(context, { name: "actuator-consul", applier, shared, output });
}
