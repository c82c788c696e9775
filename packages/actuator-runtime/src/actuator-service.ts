import type { z } from "zod";
import type { Bus } from "@meshloop/bus";
import { openConnections } from "@meshloop/connections";
import type { ConnectionsConfig } from "@meshloop/connections";
import type { CommonConfig, Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import { Actuator } from "./actuator.ts";
import type { MeshApplier } from "./applier.ts";
import type { actuatorSettings } from "./config.ts";

type ActuatorSettings = { [K in keyof typeof actuatorSettings]: z.output<(typeof actuatorSettings)[K]> };

export interface ActuatorServiceOptions {
  /** `actuator-istio`: the service's name, its Kafka client id and (prefixed) its consumer group. */
  readonly name: string;
  readonly applier: MeshApplier;
  /** The bus and store of an embedded loop, shared instead of opened. */
  readonly shared?: { bus?: Bus; store?: StateStore } | undefined;
  /** What the start-up log line says about the output (API address, folder). */
  readonly output: Record<string, unknown>;
}

/**
 * Every actuator service is the same around its mesh's applier: its connections, the Actuator loop on its own
 * consumer group, a readiness check of Kafka and Redis, start and stop in order. Mesh-specific readiness checks
 * (the API server, Consul's leader) are added by the caller on `context.ops`.
 */
export function actuatorService(context: ServiceContext<CommonConfig & ConnectionsConfig & ActuatorSettings>, options: ActuatorServiceOptions): Service {
  const { config, logger, metrics } = context;
  const connections = openConnections({ service: options.name, config, logger: logger.child({ component: "bus" }), ...(options.shared === undefined ? {} : { shared: options.shared }) });
  const prefix = config.MESHLOOP_TOPIC_PREFIX ? `${config.MESHLOOP_TOPIC_PREFIX}.` : "";
  const actuator = new Actuator({
    applier: options.applier,
    bus: connections.bus,
    store: connections.store,
    decisionsTopic: connections.topics.decisions,
    actuationsTopic: connections.topics.actuations,
    groupId: `${prefix}meshloop-${options.name}`,
    sessionTimeoutMs: config.MESHLOOP_ACTUATOR_SESSION_TIMEOUT,
    mode: config.MESHLOOP_ACTUATOR_MODE,
    retry: { attempts: config.MESHLOOP_ACTUATOR_RETRY_ATTEMPTS, initialDelayMs: config.MESHLOOP_ACTUATOR_RETRY_INITIAL_DELAY, maxDelayMs: config.MESHLOOP_ACTUATOR_RETRY_MAX_DELAY },
    logger: logger.child({ component: "actuator" }),
    metrics,
  });
  context.ops.addReadinessCheck("actuator", () => connections.check());
  return {
    name: options.name,
    async start() {
      try {
        // Before the first decision: a misconfigured output is a start error, not a failed result per decision.
        await options.applier.prepare?.();
        await connections.ensureTopics();
        await actuator.start();
      } catch (error) {
        // The lifecycle stops only services that started: this one closes what it opened itself (the store connects
        // as it is created), or the process would stay up on the open sockets.
        await actuator.stop().catch(() => undefined);
        await connections.close().catch(() => undefined);
        throw error;
      }
      logger.info({ mode: config.MESHLOOP_ACTUATOR_MODE, mesh: options.applier.mesh, ...options.output }, `${options.name} started`);
    },
    async stop() {
      await actuator.stop();
      await connections.close();
    },
  };
}
