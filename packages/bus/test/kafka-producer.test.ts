import assert from "node:assert/strict";
import { test } from "node:test";
import type { Producer as KafkaJsProducer, ProducerBatch, RecordMetadata } from "kafkajs";
import { KafkaProducer } from "../src/kafka/kafka-producer.ts";
import { murmur2Partition } from "../src/index.ts";

/** A kafkajs producer stand-in: answers each sendBatch from a script, and records what it was asked. */
function fakeClient(answers: Array<Error | "ok">, log: string[], name: string): KafkaJsProducer {
  return {
    connect: async () => { log.push(`${name} connect`); },
    disconnect: async () => { log.push(`${name} disconnect`); },
    sendBatch: async (batch: ProducerBatch): Promise<RecordMetadata[]> => {
      log.push(`${name} send`);
      const answer = answers.shift() ?? "ok";
      if (answer !== "ok") throw answer;
      return (batch.topicMessages ?? []).map((t) => ({ topicName: t.topic, partition: 0, errorCode: 0, baseOffset: "0" }));
    },
  } as unknown as KafkaJsProducer;
}

function brokerError(type: string): Error {
  return Object.assign(new Error(`broker said ${type}`), { type, retriable: false });
}

function producerWith(clients: KafkaJsProducer[]): KafkaProducer {
  return new KafkaProducer({
    createClient: () => {
      const next = clients.shift();
      if (next === undefined) throw new Error("no more clients");
      return next;
    },
    partitionCount: () => 1,
    partitioner: murmur2Partition,
    compression: "none",
    lingerMs: 0,
    maxBatchBytes: 1_000_000,
  });
}

for (const type of ["OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_EPOCH"]) {
  test(`after ${type} the producer starts over with a new client instead of being refused for ever`, async () => {
    const log: string[] = [];
    const producer = producerWith([fakeClient([brokerError(type), brokerError(type)], log, "first"), fakeClient([], log, "second")]);
    await assert.rejects(producer.send("t", [{ value: Buffer.from("a") }]), (error: Error & { context?: { type?: string } }) => error.context?.type === type || /broker said/.test(error.message));
    const positions = await producer.send("t", [{ value: Buffer.from("b") }]);
    assert.equal(positions.length, 1);
    assert.equal(producer.resets, 1);
    assert.deepEqual(log, ["first connect", "first send", "first disconnect", "second connect", "second send"]);
    await producer.close();
  });
}

test("other send failures keep the client (kafkajs's own retries and state still hold)", async () => {
  const log: string[] = [];
  const producer = producerWith([fakeClient([Object.assign(new Error("timeout"), { type: "REQUEST_TIMED_OUT", retriable: true })], log, "first")]);
  await assert.rejects(producer.send("t", [{ value: Buffer.from("a") }]));
  await producer.send("t", [{ value: Buffer.from("b") }]);
  assert.equal(producer.resets, 0);
  assert.deepEqual(log, ["first connect", "first send", "first send"]);
  await producer.close();
});
