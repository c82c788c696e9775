export { createAggregatorService } from "./aggregator-service.ts";
export type { AggregatorService } from "./aggregator-service.ts";
export { aggregatorConfig, aggregatorSettings } from "./config.ts";
export type { AggregatorConfig } from "./config.ts";
export { CheckpointStore } from "./checkpoint-store.ts";
export { TransactionalStage } from "./transactional-stage.ts";
export type { PartitionProcessor, ProcessorSnapshot, StageCounters, StageOutput, TransactionalStageOptions } from "./transactional-stage.ts";
