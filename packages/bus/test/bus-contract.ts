// The behaviour every Bus adapter must have. Run against the memory adapter and against the real Kafka broker.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eventually, uniqueName } from "@meshloop/test-harness";
import type { Bus, ConsumedRecord, Consumer, ConsumerOptions } from "../src/index.ts";
import { murmur2Partition } from "../src/index.ts";

export interface BusFixture {
  bus: Bus;
  /** Creates a second, independent client of the same cluster (a second process in real life). */
  another(): Bus;
  teardown(): Promise<void>;
}

export function busContract(name: string, setup: () => Promise<BusFixture>): void {
  describe(`bus contract: ${name}`, () => {
    let fixture: BusFixture;
    const consumers: Consumer[] = [];
    const others: Bus[] = [];

    before(async () => {
      fixture = await setup();
    });
    after(async () => {
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(others.map((b) => b.close()));
      await fixture.teardown();
    });

    async function topic(partitions = 3, config?: Record<string, string>): Promise<string> {
      const name = uniqueName("contract");
      await fixture.bus.ensureTopics([{ name, partitions, ...(config ? { config } : {}) }]);
      return name;
    }

    function collect(bus: Bus, options: Omit<ConsumerOptions, "handler"> & { handler?: ConsumerOptions["handler"] }) {
      const received: ConsumedRecord[] = [];
      const consumer = bus.consumer({
        ...options,
        handler: options.handler ?? (async (batch) => { received.push(...batch.records); }),
      });
      consumers.push(consumer);
      return { consumer, received };
    }

    test("ensureTopics creates topics with their partition count and is idempotent", async () => {
      const name = await topic(4);
      await fixture.bus.ensureTopics([{ name, partitions: 4 }]);
      assert.equal(await fixture.bus.partitionCount(name), 4);
      assert.deepEqual((await fixture.bus.endOffsets(name)).map((o) => o.offset), [0, 0, 0, 0]);
    });

    test("records keep key, value, headers and timestamp, in order per partition", async () => {
      const name = await topic(3);
      const producer = fixture.bus.producer();
      const records = Array.from({ length: 30 }, (_, i) => ({
        key: `k${i % 5}`,
        value: `v${i}`,
        headers: { "ce_id": `id-${i}` },
        timestamp: 1_700_000_000_000 + i,
      }));
      const positions = await producer.send(name, records);
      assert.equal(positions.length, 30);
      const { consumer, received } = collect(fixture.bus, { groupId: uniqueName("g"), topics: [name], fromBeginning: true });
      await consumer.start();
      await eventually(() => received.length === 30, "30 records");
      await producer.close();
      for (const record of received) {
        const i = Number(record.value!.toString().slice(1));
        assert.equal(record.key!.toString(), `k${i % 5}`);
        assert.equal(record.headers["ce_id"], `id-${i}`);
        assert.equal(record.timestamp, 1_700_000_000_000 + i);
        assert.deepEqual(positions[i], { topic: name, partition: record.partition, offset: record.offset });
      }
      for (let p = 0; p < 3; p++) {
        const values = received.filter((r) => r.partition === p).map((r) => Number(r.value!.toString().slice(1)));
        assert.deepEqual(values, [...values].sort((a, b) => a - b), `partition ${p} keeps send order`);
      }
    });

    test("keyed records land where Java's murmur2 partitioner puts them; explicit partitions win", async () => {
      const name = await topic(7);
      const producer = fixture.bus.producer();
      const keys = Array.from({ length: 40 }, (_, i) => `trace-${i}`);
      const positions = await producer.send(name, keys.map((key) => ({ key, value: "x" })));
      keys.forEach((key, i) => assert.equal(positions[i]!.partition, murmur2Partition(Buffer.from(key), 7)));
      const [explicit] = await producer.send(name, [{ key: "trace-0", value: "y", partition: 6 }]);
      assert.equal(explicit!.partition, 6);
      await assert.rejects(producer.send(name, [{ value: "z", partition: 7 }]), /partition 7 does not exist/);
      await producer.close();
    });

    test("a custom partitioner decides the partition of keyed records", async () => {
      const name = await topic(5);
      const producer = fixture.bus.producer({ partitioner: (key, count) => key.length % count });
      const positions = await producer.send(name, [{ key: "abc", value: "1" }, { key: "abcd", value: "2" }]);
      assert.deepEqual(positions.map((p) => p.partition), [3, 4]);
      await producer.close();
    });

    test("a record over the topic's max.message.bytes is refused, not retried, and others still go through", async () => {
      const name = await topic(1, { "max.message.bytes": "2000" });
      const producer = fixture.bus.producer();
      await assert.rejects(producer.send(name, [{ value: Buffer.alloc(10_000, 1) }]), (error: Error & { retriable?: boolean }) => {
        assert.equal(error.retriable, false);
        return true;
      });
      const [ok] = await producer.send(name, [{ value: "small" }]);
      assert.equal(ok!.offset, 0, "the refused record took no offset");
      await producer.close();
    });

    test("offsets are committed after processing; a restarted member resumes after them", async () => {
      const name = await topic(2);
      const groupId = uniqueName("g");
      const producer = fixture.bus.producer();
      await producer.send(name, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `a${i}` })));
      const first = collect(fixture.bus, { groupId, topics: [name], fromBeginning: true });
      await first.consumer.start();
      await eventually(() => first.received.length === 10, "first 10 records");
      await first.consumer.stop();
      const committed = await fixture.bus.committedOffsets(groupId, name);
      assert.equal(committed.reduce((sum, o) => sum + o.offset, 0), 10, "committed offsets cover all 10 records");
      await producer.send(name, Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `b${i}` })));
      const second = collect(fixture.bus, { groupId, topics: [name], fromBeginning: true });
      await second.consumer.start();
      await eventually(() => second.received.length === 5, "the 5 new records");
      assert.ok(second.received.every((r) => r.value!.toString().startsWith("b")), "nothing committed is delivered again");
      await producer.close();
    });

    test("offsets are committed while the member runs, not only when it stops", async () => {
      const name = await topic(3);
      const groupId = uniqueName("g");
      const producer = fixture.bus.producer();
      await producer.send(name, Array.from({ length: 12 }, (_, i) => ({ value: `r${i}`, partition: i % 3 })));
      const { consumer, received } = collect(fixture.bus, { groupId, topics: [name], fromBeginning: true });
      await consumer.start();
      await eventually(() => received.length === 12, "12 records");
      await eventually(
        async () => (await fixture.bus.committedOffsets(groupId, name)).reduce((sum, o) => sum + o.offset, 0) === 12,
        "offsets of all 12 records committed",
        30_000,
      );
      await producer.close();
    });

    test("with a long commit interval, stopping still commits everything handled", async () => {
      const name = await topic(2);
      const groupId = uniqueName("g");
      const producer = fixture.bus.producer();
      await producer.send(name, Array.from({ length: 10 }, (_, i) => ({ value: `r${i}`, partition: i % 2 })));
      const { consumer, received } = collect(fixture.bus, { groupId, topics: [name], fromBeginning: true, commitIntervalMs: 600_000 });
      await consumer.start();
      await eventually(() => received.length === 10, "10 records");
      await consumer.stop();
      const committed = await fixture.bus.committedOffsets(groupId, name);
      assert.equal(committed.reduce((sum, o) => sum + o.offset, 0), 10, "committed offsets cover all 10 records");
      await producer.close();
    });

    for (const concurrency of [1, 3]) {
      test(`concurrency ${concurrency}: up to ${concurrency} partitions at once, one batch of a partition at a time, in order`, async () => {
        const name = await topic(3);
        const producer = fixture.bus.producer();
        const active = new Map<number, number>();
        let activeNow = 0;
        let mostAtOnce = 0;
        let samePartitionOverlap = false;
        const received: ConsumedRecord[] = [];
        const { consumer } = collect(fixture.bus, {
          groupId: uniqueName("g"),
          topics: [name],
          fromBeginning: true,
          concurrency,
          handler: async (batch) => {
            const mine = (active.get(batch.partition) ?? 0) + 1;
            active.set(batch.partition, mine);
            if (mine > 1) samePartitionOverlap = true;
            mostAtOnce = Math.max(mostAtOnce, ++activeNow);
            await new Promise((resolve) => setTimeout(resolve, 30));
            received.push(...batch.records);
            active.set(batch.partition, (active.get(batch.partition) ?? 1) - 1);
            activeNow--;
          },
        });
        // Records of every partition are there before the member's first fetch, and more come while it works.
        await producer.send(name, Array.from({ length: 30 }, (_, i) => ({ value: String(i), partition: i % 3 })));
        await consumer.start();
        for (let round = 1; round <= 3; round++) {
          await producer.send(name, Array.from({ length: 6 }, (_, i) => ({ value: String(30 * round + i), partition: i % 3 })));
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
        await eventually(() => received.length === 48, "48 records", 30_000);
        assert.equal(samePartitionOverlap, false, "a partition's batches never overlap");
        if (concurrency === 1) assert.equal(mostAtOnce, 1, "one batch at a time");
        else assert.ok(mostAtOnce > 1 && mostAtOnce <= concurrency, `batches of different partitions overlapped (at most ${mostAtOnce} at once)`);
        for (let p = 0; p < 3; p++) {
          const values = received.filter((r) => r.partition === p).map((r) => Number(r.value!.toString()));
          assert.deepEqual(values, [...values].sort((a, b) => a - b), `partition ${p} in order`);
        }
        await producer.close();
      });
    }

    test("a failing handler gets the same records again: nothing is skipped", async () => {
      const name = await topic(1);
      const producer = fixture.bus.producer();
      await producer.send(name, [{ value: "1" }, { value: "2" }, { value: "3" }]);
      let failures = 0;
      const seen: string[] = [];
      const errors: Error[] = [];
      const { consumer } = collect(fixture.bus, {
        groupId: uniqueName("g"),
        topics: [name],
        fromBeginning: true,
        onError: (error) => errors.push(error),
        handler: async (batch) => {
          if (failures === 0) {
            failures++;
            throw new Error("transient");
          }
          seen.push(...batch.records.map((r) => r.value!.toString()));
        },
      });
      await consumer.start();
      await eventually(() => seen.length >= 3, "redelivery after the failure", 30_000);
      assert.deepEqual(seen.slice(0, 3), ["1", "2", "3"]);
      assert.ok(errors.some((e) => /transient/.test(e.message)), "the failure was reported");
      await producer.close();
    });

    test("two members split the partitions; when one leaves the other takes over without loss", async () => {
      const name = await topic(4);
      const groupId = uniqueName("g");
      const bus2 = fixture.another();
      others.push(bus2);
      const a = collect(fixture.bus, { groupId, topics: [name], fromBeginning: true, sessionTimeoutMs: 10_000 });
      const b = collect(bus2, { groupId, topics: [name], fromBeginning: true, sessionTimeoutMs: 10_000 });
      await a.consumer.start();
      await b.consumer.start();
      const owned = (c: Consumer) => c.assignment().flatMap((t) => t.partitions);
      // Members learn of a rebalance at their next heartbeat, so wait for the settled state, then check it.
      await eventually(
        () => owned(a.consumer).length > 0 && owned(b.consumer).length > 0 && owned(a.consumer).length + owned(b.consumer).length === 4,
        "both members assigned",
        30_000,
      );
      assert.deepEqual([...owned(a.consumer), ...owned(b.consumer)].sort(), [0, 1, 2, 3], "each partition has exactly one owner");

      const producer = fixture.bus.producer();
      await producer.send(name, Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `${i}` })));
      await eventually(() => a.received.length + b.received.length === 40, "40 records over both members", 30_000);
      assert.ok(a.received.length > 0 && b.received.length > 0, "both members received records");

      await b.consumer.stop();
      await eventually(() => owned(a.consumer).length === 4, "the remaining member owns all partitions", 30_000);
      await producer.send(name, Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `${40 + i}` })));
      await eventually(() => a.received.length + b.received.length >= 80, "all 80 records", 30_000);
      const values = new Set([...a.received, ...b.received].map((r) => r.value!.toString()));
      assert.equal(values.size, 80, "every record was delivered");
      await producer.close();
    });

    test("transactions: records, offsets and offset metadata commit together; aborted records are never read", async () => {
      const input = await topic(1);
      const output = await topic(1);
      const groupId = uniqueName("g");
      const producer = fixture.bus.producer();
      await producer.send(input, [{ value: "in-0" }, { value: "in-1" }]);
      const tx = fixture.bus.transactionalProducer({ transactionalId: uniqueName("tx") });
      await assert.rejects(
        tx.transaction(async (t) => {
          await t.send(output, [{ value: "aborted" }]);
          throw new Error("work failed");
        }),
        /work failed/,
      );
      await tx.transaction(async (t) => {
        await t.send(output, [{ value: "out-0" }, { value: "out-1" }]);
        await t.sendOffsets(groupId, [{ topic: input, partition: 0, offset: 2, metadata: "checkpoint-7" }]);
      });
      const reader = collect(fixture.bus, { groupId: uniqueName("reader"), topics: [output], fromBeginning: true });
      await reader.consumer.start();
      await eventually(() => reader.received.length >= 2, "committed output");
      assert.deepEqual(reader.received.map((r) => r.value!.toString()), ["out-0", "out-1"]);
      assert.deepEqual(await fixture.bus.committedOffsets(groupId, input), [{ topic: input, partition: 0, offset: 2, metadata: "checkpoint-7" }]);
      await tx.close();
      await producer.close();
    });

    test("a transaction of several MiB to one partition commits (sent in batches under the broker's limit)", async () => {
      const output = await topic(1);
      const tx = fixture.bus.transactionalProducer({ transactionalId: uniqueName("tx") });
      // 24 records of 200 KiB: 4.7 MiB for one partition, far over message.max.bytes as one batch.
      const records = Array.from({ length: 24 }, (_, i) => ({ key: `k${i}`, value: Buffer.alloc(200 * 1024, i) }));
      await tx.transaction(async (t) => t.send(output, records));
      const reader = collect(fixture.bus, { groupId: uniqueName("reader"), topics: [output], fromBeginning: true });
      await reader.consumer.start();
      await eventually(() => reader.received.length >= 24, "every record of the large transaction");
      assert.deepEqual(reader.received.map((r) => r.value![0]), records.map((_, i) => i));
      await tx.close();
    });

    test("a newer producer with the same transactional id fences the older one", async () => {
      const output = await topic(1);
      const id = uniqueName("tx");
      const old = fixture.bus.transactionalProducer({ transactionalId: id });
      await old.transaction(async (t) => t.send(output, [{ value: "old-1" }]));
      const bus2 = fixture.another();
      others.push(bus2);
      const newer = bus2.transactionalProducer({ transactionalId: id });
      await newer.connect();
      await assert.rejects(
        old.transaction(async (t) => t.send(output, [{ value: "zombie" }])),
        (error: Error) => error.name === "FencedError",
      );
      await newer.transaction(async (t) => t.send(output, [{ value: "new-1" }]));
      const reader = collect(fixture.bus, { groupId: uniqueName("reader"), topics: [output], fromBeginning: true });
      await reader.consumer.start();
      await eventually(() => reader.received.length >= 2, "committed output");
      assert.deepEqual(reader.received.map((r) => r.value!.toString()), ["old-1", "new-1"]);
      await old.close().catch(() => undefined);
      await newer.close();
    });

    test("a group without commits starting from the end sees only new records", async () => {
      const name = await topic(1);
      const producer = fixture.bus.producer();
      await producer.send(name, [{ value: "old" }]);
      const { consumer, received } = collect(fixture.bus, { groupId: uniqueName("g"), topics: [name], fromBeginning: false });
      await consumer.start();
      await eventually(() => consumer.assignment().length > 0, "assignment", 30_000);
      // "The end" is resolved at the member's first fetch, which may come after the assignment: keep sending
      // until a new record arrives; the old one must never appear.
      let sent = 0;
      await eventually(async () => {
        await producer.send(name, [{ value: `new-${sent++}` }]);
        return received.length > 0;
      }, "a new record", 30_000);
      assert.ok(received.every((r) => r.value!.toString().startsWith("new-")), "the record from before the group existed is not delivered");
      await producer.close();
    });

    test("sending to a topic that does not exist fails", async () => {
      const producer = fixture.bus.producer();
      await assert.rejects(producer.send(uniqueName("missing"), [{ value: "x" }]), /does not exist|UNKNOWN_TOPIC|not exist/i);
      await producer.close();
    });
  });
}
