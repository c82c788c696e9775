import { ConfigError } from "@meshloop/errors";

/**
 * The Kafka topics of the loop, in one table so that producers, consumers, the topic bootstrapper and tests agree on
 * names, keys and defaults. Partition counts and retention are defaults a deployment may override when it creates the
 * topics; the key and the partitioner are not negotiable, because consumers rely on co-location by key.
 */
export type TopicId = "spans" | "resourceMetrics" | "partials" | "aggregates" | "decisions" | "actuations" | "control";

export interface TopicSpec {
  readonly name: string;
  /** What the message key holds. */
  readonly key: "trace-id-hex" | "service-name" | "target-key";
  /**
   * `sarama-fnv1a`: FNV-1a like sarama and the Collector's Kafka exporter (see partitioning.ts), so that meshloop's
   * ingest and a Collector writing to the same topic put a trace on the same partition. `murmur2`: the Java client's
   * default, which the Node producers use for everything else.
   */
  readonly partitioner: "sarama-fnv1a" | "murmur2";
  readonly format: "otlp-traces-protobuf" | "envelope-json" | "cloudevents-binary-json";
  /** The `type` values (envelope) or `ce_type` values (CloudEvents) found on the topic. */
  readonly messageTypes: readonly string[];
  readonly partitions: number;
  /** Retention hint in ms: long enough to replay after an outage (raw data) or to audit (decisions and results). */
  readonly retentionMs: number;
  readonly cleanupPolicy: "delete";
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const TOPICS = {
  spans: {
    name: "meshloop.spans.v1",
    key: "trace-id-hex",
    partitioner: "sarama-fnv1a",
    format: "otlp-traces-protobuf",
    messageTypes: ["opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest"],
    partitions: 12,
    retentionMs: 6 * HOUR,
    cleanupPolicy: "delete",
  },
  // 12 like partials, and keyed by the same service name: a stage 2 consumer that owns partials partition p also
  // owns resource-metrics partition p (range assignment over co-partitioned topics).
  resourceMetrics: {
    name: "meshloop.resource-metrics.v1",
    key: "service-name",
    partitioner: "murmur2",
    format: "envelope-json",
    messageTypes: ["meshloop.gauges"],
    partitions: 12,
    retentionMs: 6 * HOUR,
    cleanupPolicy: "delete",
  },
  partials: {
    name: "meshloop.partials.v1",
    key: "service-name",
    partitioner: "murmur2",
    format: "envelope-json",
    messageTypes: ["meshloop.partial", "meshloop.progress"],
    partitions: 12,
    retentionMs: DAY,
    cleanupPolicy: "delete",
  },
  aggregates: {
    name: "meshloop.aggregates.v1",
    key: "target-key",
    partitioner: "murmur2",
    format: "envelope-json",
    messageTypes: ["meshloop.aggregate"],
    partitions: 12,
    retentionMs: 7 * DAY,
    cleanupPolicy: "delete",
  },
  decisions: {
    name: "meshloop.decisions.v1",
    key: "target-key",
    partitioner: "murmur2",
    format: "cloudevents-binary-json",
    messageTypes: ["dev.meshloop.decision.v1", "dev.meshloop.pause.v1"],
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: "delete",
  },
  actuations: {
    name: "meshloop.actuations.v1",
    key: "target-key",
    partitioner: "murmur2",
    format: "cloudevents-binary-json",
    messageTypes: ["dev.meshloop.actuation.v1"],
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: "delete",
  },
  control: {
    name: "meshloop.control.v1",
    key: "target-key",
    partitioner: "murmur2",
    format: "cloudevents-binary-json",
    messageTypes: ["dev.meshloop.control.v1"],
    partitions: 6,
    retentionMs: 30 * DAY,
    cleanupPolicy: "delete",
  },
} as const satisfies Record<TopicId, TopicSpec>;

export const TOPIC_IDS: readonly TopicId[] = Object.keys(TOPICS) as TopicId[];

// Kafka's legal topic characters; the prefix is joined with a dot, so it must not bring its own trailing one.
const PREFIX = /^[A-Za-z0-9._-]*[A-Za-z0-9_-]$/;
const MAX_TOPIC_NAME = 249;

/**
 * The topic names, each optionally prefixed (`"run42"` gives `run42.meshloop.spans.v1`) so that a deployment or a
 * test can run its own set of topics on a shared cluster. An empty prefix is no prefix (an unset variable).
 */
export function topicNames(prefix?: string): Record<TopicId, string> {
  if (prefix && !PREFIX.test(prefix)) {
    throw new ConfigError(`topic prefix "${prefix}" must use only [A-Za-z0-9._-] and not end with a dot`, {
      context: { prefix },
    });
  }
  const names = {} as Record<TopicId, string>;
  for (const id of TOPIC_IDS) {
    const name = prefix ? `${prefix}.${TOPICS[id].name}` : TOPICS[id].name;
    if (name.length > MAX_TOPIC_NAME) {
      throw new ConfigError(`topic name ${name} is longer than Kafka's ${MAX_TOPIC_NAME} characters`, {
        context: { prefix },
      });
    }
    names[id] = name;
  }
  return names;
}
