// Before anything loads kafkajs (see kafka/kafkajs-hot-path.ts).
import "./kafka/kafkajs-hot-path.ts";
export type {
  Bus,
  CommitMode,
  ConsumedBatch,
  ConsumedRecord,
  Consumer,
  ConsumerOptions,
  Headers,
  OutgoingRecord,
  Partitioner,
  PartitionOffset,
  Producer,
  ProducerOptions,
  RecordPosition,
  TopicPartitions,
  TopicSpec,
  Transaction,
  TransactionalProducer,
  TransactionalProducerOptions,
} from "./bus.ts";
export { BusError, toBusError } from "./bus-error.ts";
export { createKafkaBus } from "./kafka/kafka-bus.ts";
export type { BusLogger, Compression, KafkaBusOptions, KafkaSaslOptions } from "./kafka/kafka-options.ts";
export { resolveKafkaBusOptions } from "./kafka/kafka-options.ts";
export { createMemoryBus } from "./memory/memory-bus.ts";
export { murmur2, murmur2Partition } from "./murmur2.ts";
