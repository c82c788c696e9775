import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, eventually, uniqueName } from "@meshloop/test-harness";
import type { Compression, ConsumedRecord } from "../src/index.ts";
import { createKafkaBus } from "../src/index.ts";

let lease: InfraLease;
before(async () => { lease = await acquireInfra(); });
after(async () => { await lease.release(); });

// The broker decompresses every batch to validate it, so a batch it accepted was encoded as Kafka expects.
for (const compression of ["gzip", "lz4"] satisfies Compression[]) {
  test(`${compression}: batches are accepted by the real broker and read back intact`, async () => {
    const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "compression-test", compression });
    const topic = uniqueName(compression);
    await bus.ensureTopics([{ name: topic, partitions: 2 }]);
    const values = Array.from({ length: 200 }, (_, i) => `value-${i}-${"x".repeat(i % 50)}`);
    const producer = bus.producer();
    await producer.send(topic, values.map((value, i) => ({ key: `k${i}`, value })));
    const received: ConsumedRecord[] = [];
    const consumer = bus.consumer({
      groupId: uniqueName("g"),
      topics: [topic],
      fromBeginning: true,
      handler: async (batch) => { received.push(...batch.records); },
    });
    await consumer.start();
    await eventually(() => received.length === 200, "200 records");
    assert.deepEqual(received.map((r) => r.value!.toString()).sort(), [...values].sort());
    await bus.deleteTopics([topic]);
    await bus.close();
  });
}
