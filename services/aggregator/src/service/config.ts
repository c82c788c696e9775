import type { z } from "zod";
import { connectionsConfig } from "@meshloop/connections";
import { MESHES } from "@meshloop/contracts";
import { commonConfig, envBool, envDurationMs, envEnum, envList, envString } from "@meshloop/runtime";

/** The aggregator's own variables; `meshloop up` adds them to its schema too. */
export const aggregatorSettings = {
  MESHLOOP_AGGREGATOR_ROLES: envList()
    .default(["stage1", "stage2"])
    .describe("Which stages this process runs: stage1 (by trace, on the spans topic), stage2 (by service, on the partials topic), or both."),
  MESHLOOP_AGGREGATOR_WINDOW: envDurationMs({ min: "1s", max: "60s" })
    .default(5_000)
    .describe("Length of the tumbling event-time windows."),
  MESHLOOP_AGGREGATOR_LATENESS: envDurationMs({ min: "0ms", max: "5m" })
    .default(5_000)
    .describe("How far the watermark trails the newest record timestamp (SDK exporters batch for up to 5 s)."),
  MESHLOOP_AGGREGATOR_COMPLETENESS_TIMEOUT: envDurationMs({ min: "1s", max: "10m" })
    .default(30_000)
    .describe("A window still missing spans partitions is emitted this long after its end, naming the missing ones."),
  MESHLOOP_AGGREGATOR_CHECKPOINT_INTERVAL: envDurationMs({ min: "50ms", max: "60s" })
    .default(500)
    .describe("How often each stage commits its outputs, input offsets and state together (one Kafka transaction)."),
  MESHLOOP_AGGREGATOR_SESSION_TIMEOUT: envDurationMs({ min: "6s", max: "5m" })
    .default(10_000)
    .describe("Consumer-group session timeout: how long a silent instance keeps its partitions."),
  MESHLOOP_AGGREGATOR_GAUGES: envBool()
    .default(true)
    .describe("Join resource gauges (CPU, memory) from the resource-metrics topic into stage 2's windows (the scaling controller's CPU input)."),
  MESHLOOP_AGGREGATOR_MESH: envEnum(MESHES)
    .default("istio")
    .describe("The mesh the aggregated services run in (targets are keyed by mesh/namespace/service)."),
  MESHLOOP_AGGREGATOR_DEFAULT_NAMESPACE: envString()
    .default("default")
    .describe("Namespace of services whose telemetry has no k8s.namespace.name."),
};

export const aggregatorConfig = commonConfig({ httpPort: 9102 }).extend({ ...connectionsConfig, ...aggregatorSettings });
export type AggregatorConfig = z.infer<typeof aggregatorConfig>;
