import { actuatorService } from "@meshloop/actuator-runtime";
import type { Bus } from "@meshloop/bus";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import { LabApplier } from "../lab-applier.ts";
import type { LabActuatorConfig } from "./config.ts";

/** The lab actuator: decisions for lab targets in, the lab's route table changed through its admin API, results out. */
export function createLabActuatorService(context: ServiceContext<LabActuatorConfig>, shared?: { bus?: Bus; store?: StateStore }): Service {
  const { config, logger } = context;
  const applier = new LabApplier({
    adminUrl: config.MESHLOOP_LAB_ADMIN_URL,
    ...(config.MESHLOOP_LAB_ADMIN_TOKEN_FILE === undefined ? {} : { tokenFile: config.MESHLOOP_LAB_ADMIN_TOKEN_FILE }),
    logger: logger.child({ component: "lab-admin" }),
  });
  // Ready with Kafka and Redis: the lab being away is a per-decision failure the runtime retries, not unreadiness.
  // The token file's path is logged, never its content.
  return actuatorService(context, { name: "actuator-lab", applier, shared, output: { adminUrl: config.MESHLOOP_LAB_ADMIN_URL, tokenFile: config.MESHLOOP_LAB_ADMIN_TOKEN_FILE ?? null } });
}
