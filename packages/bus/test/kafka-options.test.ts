import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveKafkaBusOptions } from "../src/index.ts";

const base = { brokers: ["127.0.0.1:9092"], clientId: "t" };

test("defaults: no compression, replication 1, min.insync.replicas 1", () => {
  const resolved = resolveKafkaBusOptions(base);
  assert.equal(resolved.compression, "none");
  assert.equal(resolved.replicationFactor, 1);
  assert.equal(resolved.minInsyncReplicas, 1);
});

test("three replicas default to min.insync.replicas 2, so one broker may fail without losing acked data", () => {
  assert.equal(resolveKafkaBusOptions({ ...base, replicationFactor: 3 }).minInsyncReplicas, 2);
});

test("invalid options are refused up front with a message that explains", () => {
  assert.throws(() => resolveKafkaBusOptions({ ...base, brokers: [] }), /at least one broker/);
  assert.throws(() => resolveKafkaBusOptions({ ...base, brokers: ["kafka"] }), /"kafka" is not host:port/);
  assert.throws(() => resolveKafkaBusOptions({ ...base, clientId: " " }), /clientId must not be empty/);
  assert.throws(() => resolveKafkaBusOptions({ ...base, replicationFactor: 0 }), /replicationFactor must be an integer >= 1, got 0/);
  assert.throws(
    () => resolveKafkaBusOptions({ ...base, replicationFactor: 2, minInsyncReplicas: 3 }),
    /between 1 and the replication factor \(2\), got 3/,
  );
  assert.throws(
    () => resolveKafkaBusOptions({ ...base, sasl: { mechanism: "scram-sha-512", username: "u", password: "" } }),
    /SASL scram-sha-512 needs a username and a password/,
  );
});
