import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "@meshloop/errors";
import { TOPIC_IDS, topicNames, TOPICS } from "../src/index.ts";

test("the loop's topics have versioned names and their keys", () => {
  assert.deepEqual(topicNames(), {
    spans: "meshloop.spans.v1",
    resourceMetrics: "meshloop.resource-metrics.v1",
    partials: "meshloop.partials.v1",
    aggregates: "meshloop.aggregates.v1",
    decisions: "meshloop.decisions.v1",
    actuations: "meshloop.actuations.v1",
    control: "meshloop.control.v1",
  });
  assert.equal(TOPICS.spans.key, "trace-id-hex");
  assert.equal(TOPICS.spans.partitioner, "sarama-fnv1a");
  assert.equal(TOPICS.decisions.key, "target-key");
  assert.equal(TOPICS.decisions.format, "cloudevents-binary-json");
  assert.ok(TOPIC_IDS.every((id) => TOPICS[id].cleanupPolicy === "delete" && TOPICS[id].partitions > 0));
});

test("stage 2 inputs are co-partitioned: same key and partition count", () => {
  assert.equal(TOPICS.resourceMetrics.key, TOPICS.partials.key);
  assert.equal(TOPICS.resourceMetrics.partitions, TOPICS.partials.partitions);
  assert.equal(TOPICS.resourceMetrics.partitioner, TOPICS.partials.partitioner);
});

test("a prefix is prepended to every name; an empty one is none", () => {
  const names = topicNames("test-42");
  assert.equal(names.spans, "test-42.meshloop.spans.v1");
  assert.ok(Object.values(names).every((n) => n.startsWith("test-42.meshloop.")));
  assert.deepEqual(topicNames(""), topicNames());
});

test("a prefix with characters Kafka refuses is a ConfigError", () => {
  assert.throws(
    () => topicNames("my topic"),
    (e: unknown) => e instanceof ConfigError && /must use only/.test(e.message),
  );
  assert.throws(() => topicNames("run."), /not end with a dot/);
  assert.throws(() => topicNames("x".repeat(240)), /longer than Kafka's 249/);
});
