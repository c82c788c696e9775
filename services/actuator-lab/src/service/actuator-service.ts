import { Actuator } from "@meshloop/actuator-runtime";
import type { Bus } from "@meshloop/bus";
import { openConnections } from "@meshloop/connections";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import { LabApplier } from "../lab-applier.ts";
import type { LabActuatorConfig } from "./config.ts";

/** The lab actuator: decisions for lab targets in, the lab's route table changed through its admin API, results out. */
export function createLabActuatorService(context: ServiceContext<LabActuatorConfig>, shared?: { bus?: Bus; store?: StateStore }): Service {
  const { config, logger, metrics } = context;
  const connections = openConnections({ service: "actuator-lab", config, logger: logger.child({ component: "bus" }), ...(shared === undefined ? {} : { shared }) });
  const prefix = config.MESHLOOP_TOPIC_PREFIX ? `${config.MESHLOOP_TOPIC_PREFIX}.` : "";
  const applier = new LabApplier({
    adminUrl: config.MESHLOOP_LAB_ADMIN_URL,
    ...(config.MESHLOOP_LAB_ADMIN_TOKEN_FILE === undefined ? {} : { tokenFile: config.MESHLOOP_LAB_ADMIN_TOKEN_FILE }),
    logger: logger.child({ component: "lab-admin" }),
  });
  const actuator = new Actuator({
    applier,
    bus: connections.bus,
    store: connections.store,
    decisionsTopic: connections.topics.decisions,
    actuationsTopic: connections.topics.actuations,
    groupId: `${prefix}meshloop-actuator-lab`,
    mode: config.MESHLOOP_ACTUATOR_MODE,
    retry: { attempts: config.MESHLOOP_ACTUATOR_RETRY_ATTEMPTS, initialDelayMs: config.MESHLOOP_ACTUATOR_RETRY_INITIAL_DELAY, maxDelayMs: config.MESHLOOP_ACTUATOR_RETRY_MAX_DELAY },
    logger: logger.child({ component: "actuator" }),
    metrics,
  });
  // Ready with Kafka and Redis: the lab being away is a per-decision failure the runtime retries, not unreadiness.
  context.ops.addReadinessCheck("actuator", () => connections.check());
  return {
    name: "actuator-lab",
    async start() {
      await connections.ensureTopics();
      await actuator.start();
      // The token file's path is logged, never its content.
      logger.info({ mode: config.MESHLOOP_ACTUATOR_MODE, adminUrl: config.MESHLOOP_LAB_ADMIN_URL, tokenFile: config.MESHLOOP_LAB_ADMIN_TOKEN_FILE ?? null }, "lab actuator started");
    },
    async stop() {
      await actuator.stop();
      await connections.close();
    },
  };
}
