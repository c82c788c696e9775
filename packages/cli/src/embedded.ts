import type { z } from "zod";
import { createLabActuatorService, labActuatorSettings } from "@meshloop/actuator-lab/service";
import { aggregatorSettings, createAggregatorService } from "@meshloop/aggregator/service";
import { connectionsConfig, openConnections } from "@meshloop/connections";
import type { Connections } from "@meshloop/connections";
import { consoleSettings, createConsoleService } from "@meshloop/console/service";
import { createDecisionService, decisionSettings } from "@meshloop/decision/service";
import { createIngestService, ingestSettings } from "@meshloop/ingest";
import type { IngestService } from "@meshloop/ingest";
import type { Service, ServiceContext } from "@meshloop/runtime";
import { commonConfig } from "@meshloop/runtime";

/** What the embedded loop reads: every in-process service's settings (the lab actuator's only when a lab runs). */
export const embeddedConfig = commonConfig({ httpPort: 8080 }).extend({
  ...connectionsConfig,
  ...ingestSettings,
  ...aggregatorSettings,
  ...decisionSettings,
  ...labActuatorSettings,
  ...consoleSettings,
});
export type EmbeddedConfig = z.infer<typeof embeddedConfig>;

/** The embedded default: the in-memory bus and store unless the environment names Kafka or Redis. */
export const EMBEDDED_DEFAULTS = { MESHLOOP_BUS: "memory", MESHLOOP_STORE: "memory" } as const;

export interface EmbeddedLoop {
  readonly services: Service[];
  readonly connections: Connections;
  readonly ingest: IngestService;
}

/**
 * The whole loop in one process: the loop's topics on one bus and store, the ingest (OTLP on 4318/4317), both
 * aggregator stages, the decision service and, with `lab`, the lab actuator; with `console`, the web console. They share the one bus and store, so the
 * embedded loop is the same program as the distributed one.
 */
export function embeddedLoop(context: ServiceContext<EmbeddedConfig>, options: { lab: boolean; console?: boolean }): EmbeddedLoop {
  const { config, logger, ops } = context;
  const connections = openConnections({ service: "meshloop", config, logger: logger.child({ component: "bus" }) });
  ops.addReadinessCheck("connections", () => connections.check());
  const shared = { bus: connections.bus, store: connections.store };
  const ingest = createIngestService(context, { bus: connections.bus });
  const services: Service[] = [
    {
      name: "connections",
      start: async () => {
        await connections.ensureTopics();
        logger.info({ bus: connections.bus.kind, store: config.MESHLOOP_STORE, topics: Object.values(connections.topics), ops: ops.address() }, "meshloop up: the loop's topics are ready");
      },
      stop: () => connections.close(),
    },
    ingest,
    createAggregatorService(context, shared),
    createDecisionService(context, shared),
    ...(options.lab ? [createLabActuatorService(context, shared)] : []),
    ...(options.console === true ? [createConsoleService(context, shared)] : []),
  ];
  return { services, connections, ingest };
}
