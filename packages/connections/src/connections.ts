import type { Bus, BusLogger } from "@meshloop/bus";
import { createKafkaBus, createMemoryBus } from "@meshloop/bus";
import type { TopicId } from "@meshloop/contracts";
import { TOPIC_IDS, TOPICS, topicNames } from "@meshloop/contracts";
import { ConfigError } from "@meshloop/errors";
import type { StateStore } from "@meshloop/store";
import { createMemoryStore, createRedisStore } from "@meshloop/store";
import type { ConnectionsConfig } from "./connections-config.ts";
import { readSecretFile } from "./connections-config.ts";

export interface Connections {
  readonly bus: Bus;
  readonly store: StateStore;
  readonly topics: Readonly<Record<TopicId, string>>;
  /** Creates the loop's missing topics with their default partitions and retention (MESHLOOP_CREATE_TOPICS). */
  ensureTopics(): Promise<void>;
  /** Throws when the broker or the store does not answer; for `/readyz`. */
  check(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenConnectionsOptions {
  /** The service's name: the Kafka client id unless configured. */
  service: string;
  config: ConnectionsConfig;
  logger?: BusLogger;
  /** Embedded mode: services in one process share one in-memory bus and store instead of each opening its own. */
  shared?: { bus?: Bus; store?: StateStore };
}

/** Builds the bus and the store a configuration names; nothing connects until first use. */
export function openConnections(options: OpenConnectionsOptions): Connections {
  const { config } = options;
  const topics = topicNames(config.MESHLOOP_TOPIC_PREFIX);
  const bus = options.shared?.bus ?? (config.MESHLOOP_BUS === "memory" ? createMemoryBus() : kafkaBus(options));
  const store =
    options.shared?.store ??
    (config.MESHLOOP_STORE === "memory"
      ? createMemoryStore({ keyPrefix: config.MESHLOOP_STORE_KEY_PREFIX })
      : createRedisStore({ url: config.MESHLOOP_REDIS_URL, keyPrefix: config.MESHLOOP_STORE_KEY_PREFIX }));
  const ownsBus = options.shared?.bus === undefined;
  const ownsStore = options.shared?.store === undefined;
  return {
    bus,
    store,
    topics,
    ensureTopics: async () => {
      if (!config.MESHLOOP_CREATE_TOPICS) return;
      await bus.ensureTopics(
        TOPIC_IDS.map((id) => ({
          name: topics[id],
          partitions: TOPICS[id].partitions,
          config: { "retention.ms": String(TOPICS[id].retentionMs), "cleanup.policy": TOPICS[id].cleanupPolicy },
        })),
      );
    },
    check: async () => {
      await bus.partitionCount(topics.decisions);
      await store.ping();
    },
    close: async () => {
      if (ownsBus) await bus.close();
      if (ownsStore) await store.close();
    },
  };
}

function kafkaBus(options: OpenConnectionsOptions): Bus {
  const { config } = options;
  const mechanism = config.MESHLOOP_KAFKA_SASL_MECHANISM;
  let sasl: { mechanism: typeof mechanism & string; username: string; password: string } | undefined;
  if (mechanism !== undefined) {
    if (config.MESHLOOP_KAFKA_SASL_USERNAME === undefined || config.MESHLOOP_KAFKA_SASL_PASSWORD_FILE === undefined) {
      throw new ConfigError(
        `MESHLOOP_KAFKA_SASL_MECHANISM is ${mechanism}: set MESHLOOP_KAFKA_SASL_USERNAME and MESHLOOP_KAFKA_SASL_PASSWORD_FILE too`,
      );
    }
    sasl = { mechanism, username: config.MESHLOOP_KAFKA_SASL_USERNAME, password: readSecretFile(config.MESHLOOP_KAFKA_SASL_PASSWORD_FILE) };
  }
  const caFile = config.MESHLOOP_KAFKA_TLS_CA_FILE;
  const ssl = config.MESHLOOP_KAFKA_TLS ? (caFile === undefined ? true : { ca: [readSecretFile(caFile)] }) : undefined;
  return createKafkaBus({
    brokers: config.MESHLOOP_KAFKA_BROKERS,
    clientId: config.MESHLOOP_KAFKA_CLIENT_ID ?? options.service,
    compression: config.MESHLOOP_KAFKA_COMPRESSION,
    replicationFactor: config.MESHLOOP_KAFKA_REPLICATION_FACTOR,
    ...(ssl === undefined ? {} : { ssl }),
    ...(sasl === undefined ? {} : { sasl }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  });
}
