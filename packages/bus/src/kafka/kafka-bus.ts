// First: faster CRC32C and buffer growth for kafkajs, before kafkajs loads (see the module).
import "./kafkajs-hot-path.ts";
import type { Admin, KafkaConfig, LogEntry, SASLOptions } from "kafkajs";
import { setTimeout as sleep } from "node:timers/promises";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import type {
  Bus,
  Consumer,
  ConsumerOptions,
  PartitionOffset,
  Producer,
  ProducerOptions,
  TopicSpec,
  TransactionalProducer,
  TransactionalProducerOptions,
} from "../bus.ts";
import { withRetry } from "@meshloop/errors";
import { BusError, toBusError } from "../bus-error.ts";
import { murmur2Partition } from "../murmur2.ts";
import { KafkaConsumer } from "./kafka-consumer.ts";
import type { BusLogger, KafkaBusOptions, ResolvedKafkaBusOptions } from "./kafka-options.ts";
import { resolveKafkaBusOptions } from "./kafka-options.ts";
import { registerLz4Codec } from "./lz4-codec.ts";
import { KafkaProducer } from "./kafka-producer.ts";
import { KafkaTransactionalProducer } from "./kafka-transactions.ts";

/**
 * Every record carries the partition this package chose, so kafkajs's own partitioner never runs; naming one
 * only silences its v2 migration warning.
 */
const producerBase = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
} as const;

/** kafkajs warnings that describe a choice made here on purpose, logged at debug instead of warn. */
const expectedWarnings = [
  // Sends fail after bounded retries so that callers (the ingest) can answer 503 and let clients retry:
  // delivery is at-least-once, and the aggregator removes duplicates.
  "Limiting retries for the idempotent producer",
];

/** Reads of metadata and offsets, retried while the broker says "not yet" (a new topic, a moving leader). */
const adminRetry = { attempts: 10, initialDelayMs: 50, maxDelayMs: 1_000 };

/** Partition counts change only when an operator adds partitions; re-read them this often. */
const partitionCountTtlMs = 60_000;

export function createKafkaBus(options: KafkaBusOptions): Bus {
  // Consumers may meet LZ4 batches whatever this bus produces, so the codec is always there.
  registerLz4Codec();
  return new KafkaBus(resolveKafkaBusOptions(options));
}

class KafkaBus implements Bus {
  readonly kind = "kafka";
  readonly #options: ResolvedKafkaBusOptions;
  readonly #kafka: Kafka;
  readonly #closers = new Set<{ close(): Promise<void> } | { stop(): Promise<void> }>();
  readonly #partitionCounts = new Map<string, { count: number; readAt: number }>();
  #admin: Promise<Admin> | null = null;

  constructor(options: ResolvedKafkaBusOptions) {
    this.#options = options;
    const config: KafkaConfig = {
      brokers: [...options.brokers],
      clientId: options.clientId,
      connectionTimeout: options.connectionTimeoutMs ?? 3_000,
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      logLevel: logLevel.WARN,
      logCreator: () => (entry: LogEntry) => logThrough(options.logger, entry),
      retry: { initialRetryTime: 100, retries: 8, maxRetryTime: 5_000 },
    };
    if (options.ssl !== undefined) config.ssl = options.ssl;
    if (options.sasl) config.sasl = options.sasl as SASLOptions;
    this.#kafka = new Kafka(config);
  }

  producer(options: ProducerOptions = {}): Producer {
    const producer = new KafkaProducer({
      createClient: () => this.#kafka.producer({ ...producerBase }),
      partitionCount: (topic) => this.#cachedPartitionCount(topic),
      partitioner: options.partitioner ?? murmur2Partition,
      compression: this.#options.compression,
      lingerMs: options.lingerMs ?? 2,
      maxBatchBytes: options.maxBatchBytes ?? 1_000_000,
    });
    this.#closers.add(producer);
    return producer;
  }

  transactionalProducer(options: TransactionalProducerOptions): TransactionalProducer {
    if (options.transactionalId.trim() === "") throw new BusError("kafka bus: transactionalId must not be empty");
    const producer = new KafkaTransactionalProducer({
      client: this.#kafka.producer({ ...producerBase, transactionalId: options.transactionalId }),
      transactionalId: options.transactionalId,
      partitionCount: (topic) => this.#cachedPartitionCount(topic),
      partitioner: options.partitioner ?? murmur2Partition,
    });
    this.#closers.add(producer);
    return producer;
  }

  consumer(options: ConsumerOptions): Consumer {
    if (options.topics.length === 0) throw new BusError(`kafka bus: consumer group ${options.groupId} subscribes to no topic`);
    const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
    const consumer = new KafkaConsumer(
      this.#kafka.consumer({
        groupId: options.groupId,
        sessionTimeout,
        heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 10)),
        rebalanceTimeout: Math.max(sessionTimeout, 30_000),
        // Low fetch waits keep the loop's latency in the tens of milliseconds when traffic is light.
        maxWaitTimeInMs: 100,
        allowAutoTopicCreation: false,
        readUncommitted: false,
      }),
      options,
    );
    this.#closers.add(consumer);
    return consumer;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const admin = await this.#connectedAdmin();
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((spec) => !existing.has(spec.name));
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        // kafkajs's own wait gives up on the UNKNOWN_TOPIC_OR_PARTITION a KRaft broker answers while a new topic's
        // metadata propagates; #waitForLeaders retries through it.
        waitForLeaders: false,
        timeout: 30_000,
        topics: missing.map((spec) => {
          const replicationFactor = spec.replicationFactor ?? this.#options.replicationFactor;
          const config = { "min.insync.replicas": String(Math.min(this.#options.minInsyncReplicas, replicationFactor)), ...spec.config };
          return {
            topic: spec.name,
            numPartitions: spec.partitions,
            replicationFactor,
            configEntries: Object.entries(config).map(([name, value]) => ({ name, value })),
          };
        }),
      });
    } catch (error) {
      // Two services creating the same topic at start-up race; the loser's "already exists" is success.
      if ((error as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") {
        throw toBusError(error, `kafka bus: creating topics ${missing.map((s) => s.name).join(",")} failed`);
      }
    }
    await this.#waitForLeaders(admin, missing.map((spec) => spec.name));
  }

  /** Until every partition of the topics has a leader: before that, producing to them fails. */
  async #waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const metadata = await admin.fetchTopicMetadata({ topics });
        if (metadata.topics.every((topic) => topic.partitions.length > 0 && topic.partitions.every((p) => p.leader >= 0))) return;
      } catch (error) {
        const type = (error as { type?: string }).type;
        if (type !== "UNKNOWN_TOPIC_OR_PARTITION" && type !== "LEADER_NOT_AVAILABLE") {
          throw toBusError(error, `kafka bus: reading metadata of new topics ${topics.join(",")} failed`);
        }
      }
      if (Date.now() > deadline) throw new BusError(`kafka bus: topics ${topics.join(",")} have no leaders after 60 s`, { retriable: true });
      await sleep(100);
    }
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const admin = await this.#connectedAdmin();
    await admin.deleteTopics({ topics: [...names] }).catch((error: unknown) => {
      throw toBusError(error, `kafka bus: deleting topics ${names.join(",")} failed`);
    });
    for (const name of names) this.#partitionCounts.delete(name);
  }

  async partitionCount(topic: string): Promise<number> {
    const admin = await this.#connectedAdmin();
    try {
      const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
      const count = metadata.topics[0]?.partitions.length ?? 0;
      if (count === 0) throw new BusError(`kafka bus: topic ${topic} does not exist`, { context: { topic } });
      this.#partitionCounts.set(topic, { count, readAt: Date.now() });
      return count;
    } catch (error) {
      if ((error as { type?: string }).type === "UNKNOWN_TOPIC_OR_PARTITION") {
        throw new BusError(`kafka bus: topic ${topic} does not exist`, { cause: error, retriable: true, context: { topic } });
      }
      throw toBusError(error, `kafka bus: reading partitions of ${topic} failed`, { topic });
    }
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    const admin = await this.#connectedAdmin();
    // Right after a topic is created a broker may still answer NOT_LEADER for a partition: retriable, so retried.
    const offsets = await withRetry(
      () => admin.fetchTopicOffsets(topic).catch((error: unknown) => {
        throw toBusError(error, `kafka bus: reading end offsets of ${topic} failed`, { topic });
      }),
      adminRetry,
    );
    return offsets
      .map((entry) => ({ topic, partition: entry.partition, offset: Number(entry.high) }))
      .sort((a, b) => a.partition - b.partition);
  }

  async committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]> {
    const admin = await this.#connectedAdmin();
    const result = await withRetry(
      () => admin.fetchOffsets({ groupId, topics: [topic] }).catch((error: unknown) => {
        throw toBusError(error, `kafka bus: reading offsets of group ${groupId} failed`, { topic, groupId });
      }),
      adminRetry,
    );
    const partitions = result[0]?.partitions ?? [];
    return partitions
      .filter((entry) => Number(entry.offset) >= 0)
      .map((entry) => ({
        topic,
        partition: entry.partition,
        offset: Number(entry.offset),
        ...(entry.metadata ? { metadata: entry.metadata } : {}),
      }))
      .sort((a, b) => a.partition - b.partition);
  }

  async close(): Promise<void> {
    const closing = [...this.#closers].map((item) => ("close" in item ? item.close() : item.stop()));
    this.#closers.clear();
    await Promise.allSettled(closing);
    if (this.#admin) {
      const admin = await this.#admin.catch(() => null);
      await admin?.disconnect();
      this.#admin = null;
    }
  }

  #cachedPartitionCount(topic: string): number | Promise<number> {
    const cached = this.#partitionCounts.get(topic);
    if (cached && Date.now() - cached.readAt < partitionCountTtlMs) return cached.count;
    return this.partitionCount(topic);
  }

  #connectedAdmin(): Promise<Admin> {
    this.#admin ??= (async () => {
      const admin = this.#kafka.admin();
      await admin.connect();
      return admin;
    })().catch((error: unknown) => {
      this.#admin = null;
      throw new BusError(`kafka bus: cannot reach ${this.#options.brokers.join(",")}`, { cause: error, retriable: true });
    });
    return this.#admin;
  }
}

function logThrough(logger: BusLogger | undefined, entry: LogEntry): void {
  if (!logger) return;
  const { message, ...rest } = entry.log;
  const fields = { component: "kafkajs", namespace: entry.namespace, ...rest };
  // kafkajs logs every error answer of the broker at error level, also those it then retries (a new topic's
  // metadata still propagating, a coordinator still loading). What is not retried away reaches the caller as an
  // error of this package, so these are debug.
  if (entry.namespace === "Connection" && message.startsWith("Response ")) logger.debug(fields, message);
  else if (entry.level === logLevel.ERROR) logger.error(fields, message);
  else if (entry.level === logLevel.WARN && !expectedWarnings.some((prefix) => message.startsWith(prefix))) logger.warn(fields, message);
  else if (entry.level === logLevel.INFO) logger.info(fields, message);
  else logger.debug(fields, message);
}
