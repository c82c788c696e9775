import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { z } from "zod";
import { TOPIC_IDS, TOPICS } from "@meshloop/contracts";
import { loadConfig } from "@meshloop/runtime";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, uniqueName } from "@meshloop/test-harness";
import { connectionsConfig, openConnections } from "../src/index.ts";

const schema = z.object(connectionsConfig);
let lease: InfraLease;
before(async () => { lease = await acquireInfra(); });
after(async () => { await lease.release(); });

test("defaults point at the local Kafka and Redis", () => {
  const config = loadConfig(schema, { env: {} });
  assert.equal(config.MESHLOOP_BUS, "kafka");
  assert.deepEqual(config.MESHLOOP_KAFKA_BROKERS, ["127.0.0.1:9092"]);
  assert.equal(config.MESHLOOP_STORE, "redis");
  assert.equal(config.MESHLOOP_STORE_KEY_PREFIX, "meshloop:");
});

test("a wrong value names the variable and what is allowed", () => {
  assert.throws(() => loadConfig(schema, { env: { MESHLOOP_BUS: "rabbit" } }), /MESHLOOP_BUS: .*kafka.*memory/);
  assert.throws(() => loadConfig(schema, { env: { MESHLOOP_KAFKA_REPLICATION_FACTOR: "0" } }), /MESHLOOP_KAFKA_REPLICATION_FACTOR/);
});

test("SASL without its credentials is refused before anything connects", () => {
  const config = loadConfig(schema, { env: { MESHLOOP_KAFKA_SASL_MECHANISM: "scram-sha-512" } });
  assert.throws(() => openConnections({ service: "t", config }), /set MESHLOOP_KAFKA_SASL_USERNAME and MESHLOOP_KAFKA_SASL_PASSWORD_FILE/);
});

test("on the real Kafka and Redis: every topic of the loop is created with its partitions, and checks pass", async () => {
  const prefix = uniqueName("conn");
  const config = loadConfig(schema, {
    env: {
      MESHLOOP_KAFKA_BROKERS: lease.kafkaBrokers.join(","),
      MESHLOOP_REDIS_URL: lease.redisUrl,
      MESHLOOP_TOPIC_PREFIX: prefix,
      MESHLOOP_STORE_KEY_PREFIX: `${prefix}:`,
    },
  });
  const connections = openConnections({ service: "connections-test", config });
  try {
    await connections.ensureTopics();
    await connections.ensureTopics();
    for (const id of TOPIC_IDS) {
      assert.equal(connections.topics[id], `${prefix}.${TOPICS[id].name}`);
      assert.equal(await connections.bus.partitionCount(connections.topics[id]), TOPICS[id].partitions);
    }
    await connections.check();
    await connections.store.set("probe", "1");
    assert.equal(await connections.store.get("probe"), "1");
    await connections.store.delete("probe");
  } finally {
    await connections.bus.deleteTopics(Object.values(connections.topics));
    await connections.close();
  }
});

test("the check fails while the topics do not exist, so /readyz says not ready", async () => {
  const config = loadConfig(schema, { env: { MESHLOOP_BUS: "memory", MESHLOOP_STORE: "memory", MESHLOOP_TOPIC_PREFIX: uniqueName("x") } });
  const connections = openConnections({ service: "t", config });
  await assert.rejects(connections.check(), /does not exist/);
  await connections.ensureTopics();
  await connections.check();
  await connections.close();
});
