import { Actuator, GitopsApplier } from "@meshloop/actuator-runtime";
import type { Bus } from "@meshloop/bus";
import { openConnections } from "@meshloop/connections";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import type { IstioContext } from "../context.ts";
import { translateIstio } from "../translate/translate.ts";
import type { IstioActuatorConfig } from "./config.ts";

/**
 * What the translation knows of a cluster it cannot read: nothing but the time. In GitOps mode meshloop writes its
 * own objects whole (a VirtualService and DestinationRule per target, labelled as meshloop's), for a repository
 * that holds the mesh configuration; merging into objects users own needs the API path.
 */
function unreadCluster(nowMs: number): IstioContext {
  return {
    nowMs,
    workloadSelector: null,
    endpoints: null,
    virtualService: null,
    destinationRule: null,
    authorizationPolicy: null,
    envoyFilter: null,
    workload: null,
    autoscalers: [],
  };
}

/** The Istio actuator: decisions for Istio targets in, Istio resources out (GitOps files), results on actuations. */
export function createIstioActuatorService(context: ServiceContext<IstioActuatorConfig>, shared?: { bus?: Bus; store?: StateStore }): Service {
  const { config, logger, metrics } = context;
  const connections = openConnections({ service: "actuator-istio", config, logger: logger.child({ component: "bus" }), ...(shared === undefined ? {} : { shared }) });
  const prefix = config.MESHLOOP_TOPIC_PREFIX ? `${config.MESHLOOP_TOPIC_PREFIX}.` : "";
  const actuator = new Actuator({
    applier: new GitopsApplier({ mesh: "istio", directory: config.MESHLOOP_ACTUATOR_GITOPS_DIR, translate: (desired, nowMs) => translateIstio(desired, unreadCluster(nowMs)) }),
    bus: connections.bus,
    store: connections.store,
    decisionsTopic: connections.topics.decisions,
    actuationsTopic: connections.topics.actuations,
    groupId: `${prefix}meshloop-actuator-istio`,
    mode: config.MESHLOOP_ACTUATOR_MODE,
    retry: { attempts: config.MESHLOOP_ACTUATOR_RETRY_ATTEMPTS, initialDelayMs: config.MESHLOOP_ACTUATOR_RETRY_INITIAL_DELAY, maxDelayMs: config.MESHLOOP_ACTUATOR_RETRY_MAX_DELAY },
    logger: logger.child({ component: "actuator" }),
    metrics,
  });
  context.ops.addReadinessCheck("actuator", () => connections.check());
  return {
    name: "actuator-istio",
    async start() {
      await connections.ensureTopics();
      await actuator.start();
      logger.info({ mode: config.MESHLOOP_ACTUATOR_MODE, directory: config.MESHLOOP_ACTUATOR_GITOPS_DIR }, "Istio actuator started (gitops output)");
    },
    async stop() {
      await actuator.stop();
      await connections.close();
    },
  };
}
