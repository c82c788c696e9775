import type { z } from "zod";
import { connectionsConfig, openConnections } from "@meshloop/connections";
import { aggregatorSettings, createAggregatorService } from "@meshloop/aggregator/service";
import { createDecisionService, decisionSettings } from "@meshloop/decision/service";
import { createIngestService, ingestSettings } from "@meshloop/ingest";
import type { Service, ServiceContext } from "@meshloop/runtime";
import { commonConfig, createServiceRuntime, loadConfig, runProcess } from "@meshloop/runtime";
import type { Command } from "../main.ts";

const upConfig = commonConfig({ httpPort: 8080 }).extend({ ...connectionsConfig, ...ingestSettings, ...aggregatorSettings, ...decisionSettings });
type UpConfig = z.infer<typeof upConfig>;

/** The embedded default: the in-memory bus and store unless the environment names Kafka or Redis. */
const embeddedDefaults = { MESHLOOP_BUS: "memory", MESHLOOP_STORE: "memory" };

export const upCommand: Command = {
  summary: "run the whole loop in this process (in-memory bus and store by default; MESHLOOP_BUS=kafka for a real broker)",
  async run() {
    const config = loadConfig(upConfig, { env: { ...embeddedDefaults, ...process.env } });
    const runtime = await createServiceRuntime<UpConfig>({ name: "meshloop", config, create: embeddedServices });
    await runProcess(runtime, { logger: runtime.logger });
    return 0;
  },
};

/**
 * Everything `up` runs: the loop's topics on one bus and store, and the services that have landed: the ingest on
 * 4318/4317, both aggregator stages (GET /graph on the ops port) and the decision service. They share the one bus
 * and store, so the embedded loop is the same program as the distributed one.
 */
function embeddedServices(context: ServiceContext<UpConfig>): Service[] {
  const { config, logger, ops } = context;
  const connections = openConnections({ service: "meshloop", config, logger: logger.child({ component: "bus" }) });
  ops.addReadinessCheck("connections", () => connections.check());
  return [
    {
      name: "connections",
      start: async () => {
        await connections.ensureTopics();
        logger.info(
          { bus: connections.bus.kind, store: config.MESHLOOP_STORE, topics: Object.values(connections.topics), ops: ops.address() },
          "meshloop up: the loop's topics are ready",
        );
      },
      stop: () => connections.close(),
    },
    createIngestService(context, { bus: connections.bus }),
    createAggregatorService(context, { bus: connections.bus, store: connections.store }),
    createDecisionService(context, { bus: connections.bus, store: connections.store }),
  ];
}
