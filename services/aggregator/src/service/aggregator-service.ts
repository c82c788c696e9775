import type { Bus } from "@meshloop/bus";
import { openConnections } from "@meshloop/connections";
import { ConfigError } from "@meshloop/errors";
import type { Service, ServiceContext } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import type { AggregatorConfig } from "./config.ts";
import { GaugeFeed } from "./gauge-feed.ts";
import { GraphPublisher } from "./graph-publisher.ts";
import { ServiceRegistry } from "./service-registry.ts";
import { redMetrics } from "./red-metrics.ts";
import { Stage1Processor, Stage2Processor } from "./stage-processors.ts";
import type { StageCounters } from "./transactional-stage.ts";
import { TransactionalStage } from "./transactional-stage.ts";

const ROLES = new Set(["stage1", "stage2"]);

export interface AggregatorService extends Service {
  readonly stages: ReadonlyMap<"stage1" | "stage2", TransactionalStage>;
}

/** Stage 1 and/or stage 2, as MESHLOOP_AGGREGATOR_ROLES says, on one bus and store. */
export function createAggregatorService(
  context: ServiceContext<AggregatorConfig>,
  shared?: { bus?: Bus; store?: StateStore },
): AggregatorService {
  const { config, logger, metrics } = context;
  for (const role of config.MESHLOOP_AGGREGATOR_ROLES) {
    if (!ROLES.has(role)) throw new ConfigError(`MESHLOOP_AGGREGATOR_ROLES: "${role}" is not a role; use stage1, stage2 or both`);
  }
  const connections = openConnections({
    service: "aggregator",
    config,
    logger: logger.child({ component: "bus" }),
    ...(shared === undefined ? {} : { shared }),
  });
  const checkpoints = metrics.counter({ name: "meshloop_aggregator_checkpoints_total", help: "Checkpoints committed (outputs, offsets and state in one transaction).", labelNames: ["stage"] as const });
  const outputs = metrics.counter({ name: "meshloop_aggregator_outputs_total", help: "Records written to the next topic.", labelNames: ["stage"] as const });
  const discarded = metrics.counter({ name: "meshloop_aggregator_discarded_records_total", help: "Input records that could never be processed (malformed), skipped and counted.", labelNames: ["stage"] as const });
  const stateLost = metrics.counter({ name: "meshloop_aggregator_state_lost_total", help: "Partitions taken over whose checkpointed state was gone (Redis wiped): continued with empty state.", labelNames: ["stage"] as const });
  const commitSeconds = metrics.histogram({ name: "meshloop_aggregator_checkpoint_seconds", help: "Time to save state and commit one checkpoint.", labelNames: ["stage"] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
  const counters = (stage: string): StageCounters => ({
    onCheckpoint: (_partition, count, durationMs) => {
      checkpoints.inc({ stage });
      outputs.inc({ stage }, count);
      commitSeconds.observe({ stage }, durationMs / 1000);
    },
    onDiscarded: (partition, error) => {
      discarded.inc({ stage });
      logger.warn({ stage, partition, err: error }, "input record skipped");
    },
    onStateLost: () => stateLost.inc({ stage }),
  });
  const resolution = { mesh: config.MESHLOOP_AGGREGATOR_MESH, defaultNamespace: config.MESHLOOP_AGGREGATOR_DEFAULT_NAMESPACE };
  const common = {
    bus: connections.bus,
    store: connections.store,
    checkpointIntervalMs: config.MESHLOOP_AGGREGATOR_CHECKPOINT_INTERVAL,
    tickIntervalMs: Math.min(1_000, config.MESHLOOP_AGGREGATOR_WINDOW / 2),
    sessionTimeoutMs: config.MESHLOOP_AGGREGATOR_SESSION_TIMEOUT,
  };
  const prefix = config.MESHLOOP_TOPIC_PREFIX ? `${config.MESHLOOP_TOPIC_PREFIX}.` : "";
  const stages = new Map<"stage1" | "stage2", TransactionalStage>();
  const registry = new ServiceRegistry(connections.store, logger.child({ component: "service-registry" }));
  if (config.MESHLOOP_AGGREGATOR_ROLES.includes("stage1")) {
    stages.set("stage1", new TransactionalStage({
      ...common,
      name: `${prefix}meshloop-aggregator-stage1`,
      inputTopic: connections.topics.spans,
      ...Stage1Processor.create(
        { resolution, windowMs: config.MESHLOOP_AGGREGATOR_WINDOW, allowedLatenessMs: config.MESHLOOP_AGGREGATOR_LATENESS },
        connections.topics.partials,
        registry,
      ),
      logger: logger.child({ component: "stage1" }),
      counters: counters("stage1"),
    }));
  }
  const graph = new GraphPublisher(connections.store, logger.child({ component: "graph" }));
  const countRed = redMetrics(metrics);
  context.ops.route("GET", "/graph", (request) => graph.handle(request));
  if (config.MESHLOOP_AGGREGATOR_ROLES.includes("stage2")) {
    stages.set("stage2", new TransactionalStage({
      ...common,
      name: `${prefix}meshloop-aggregator-stage2`,
      inputTopic: connections.topics.partials,
      ...Stage2Processor.create(
        { windowMs: config.MESHLOOP_AGGREGATOR_WINDOW, completenessTimeoutMs: config.MESHLOOP_AGGREGATOR_COMPLETENESS_TIMEOUT, waitForMovingPartitions: true },
        connections.topics.aggregates,
        (aggregate) => {
          graph.observe(aggregate);
          countRed(aggregate);
        },
      ),
      logger: logger.child({ component: "stage2" }),
      counters: counters("stage2"),
    }));
  }
  const stage2 = stages.get("stage2");
  const gaugeSamples = metrics.counter({ name: "meshloop_aggregator_gauge_samples_total", help: "Resource gauge samples read: joined into this instance's windows, or owned by another instance.", labelNames: ["result"] as const });
  const gauges = stage2 === undefined || !config.MESHLOOP_AGGREGATOR_GAUGES ? null : new GaugeFeed({
    bus: connections.bus,
    topic: connections.topics.resourceMetrics,
    groupId: `${prefix}meshloop-aggregator-gauges-${config.MESHLOOP_SERVICE_INSTANCE_ID}`,
    stage2,
    logger: logger.child({ component: "gauges" }),
    counters: {
      onJoined: (samples) => gaugeSamples.inc({ result: "joined" }, samples),
      onNotOwned: () => gaugeSamples.inc({ result: "other-instance" }),
      onDiscarded: (error) => {
        discarded.inc({ stage: "gauges" });
        logger.warn({ err: error }, "gauge record skipped");
      },
    },
  });
  context.ops.addReadinessCheck("aggregator", async () => {
    await connections.check();
    for (const [role, stage] of stages) {
      if (started && !stage.consuming) throw new Error(`${role} is rejoining its consumer group after a failed checkpoint`);
    }
  });
  let started = false;
  return {
    name: "aggregator",
    stages,
    async start() {
      await connections.ensureTopics();
      for (const stage of stages.values()) await stage.start();
      await gauges?.start();
      if (stages.has("stage2")) graph.start();
      if (stages.has("stage1")) registry.start();
      started = true;
      logger.info({ roles: [...stages.keys()], window: config.MESHLOOP_AGGREGATOR_WINDOW }, "aggregator started");
    },
    async stop() {
      registry.stop();
      await gauges?.stop();
      for (const stage of [...stages.values()].reverse()) await stage.stop();
      await graph.stop();
      await connections.close();
    },
  };
}
