import type { Message, Producer as KafkaJsProducer } from "kafkajs";
import type { OutgoingRecord, Partitioner, PartitionOffset, Transaction, TransactionalProducer } from "../bus.ts";
import { toBusError } from "../bus-error.ts";
import { choosePartition, toBuffer } from "../records.ts";

export interface KafkaTransactionalDeps {
  client: KafkaJsProducer;
  transactionalId: string;
  partitionCount: (topic: string) => number | Promise<number>;
  partitioner: Partitioner;
}

/**
 * Consume-transform-produce hand-over: records and the consumer offsets that produced them commit together.
 * Readers use read-committed isolation, so an aborted transaction's records are never seen.
 */
export class KafkaTransactionalProducer implements TransactionalProducer {
  readonly #deps: KafkaTransactionalDeps;
  #connecting: Promise<void> | null = null;
  #sequence = 0;
  #tail: Promise<unknown> = Promise.resolve();

  constructor(deps: KafkaTransactionalDeps) {
    this.#deps = deps;
  }

  /**
   * Connects and registers the transactional id with the coordinator at once (kafkajs would wait for the first
   * transaction), so that from here on every older producer with the same id is fenced.
   */
  connect(): Promise<void> {
    this.#connecting ??= (async () => {
      await this.#deps.client.connect();
      const probe = await this.#deps.client.transaction();
      await probe.abort();
    })().catch((error: unknown) => {
      this.#connecting = null;
      throw toBusError(error, `kafka transactional producer ${this.#deps.transactionalId}: connect failed`);
    });
    return this.#connecting;
  }

  /** One transaction at a time per transactional id: calls queue behind each other. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const run = this.#tail.then(() => this.#run(work));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.#tail;
    if (this.#connecting) await this.#deps.client.disconnect();
    this.#connecting = null;
  }

  async #run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const id = this.#deps.transactionalId;
    await this.connect();
    const kafkaTx = await this.#deps.client.transaction().catch((error: unknown) => {
      throw toBusError(error, `kafka transaction ${id}: begin failed`);
    });
    const tx: Transaction = {
      send: async (topic, records) => {
        const messages = await this.#toMessages(topic, records);
        for (const chunk of chunksUnder(messages, MAX_SEND_BYTES)) await kafkaTx.send({ topic, messages: chunk, acks: -1 });
      },
      sendOffsets: async (groupId, offsets) => {
        await kafkaTx.sendOffsets({ consumerGroupId: groupId, topics: groupByTopic(offsets) });
      },
    };
    let result: T;
    try {
      result = await work(tx);
    } catch (error) {
      await kafkaTx.abort().catch(() => undefined);
      throw toBusError(error, `kafka transaction ${id}: aborted`);
    }
    try {
      await kafkaTx.commit();
    } catch (error) {
      await kafkaTx.abort().catch(() => undefined);
      throw toBusError(error, `kafka transaction ${id}: commit failed`);
    }
    return result;
  }

  async #toMessages(topic: string, records: readonly OutgoingRecord[]): Promise<Message[]> {
    const count = await this.#deps.partitionCount(topic);
    const now = String(Date.now());
    return records.map((record) => {
      const key = toBuffer(record.key);
      return {
        key,
        value: record.value,
        headers: record.headers,
        partition: choosePartition(topic, record, key, count, this.#deps.partitioner, this.#sequence++),
        timestamp: record.timestamp === undefined ? now : String(record.timestamp),
      };
    });
  }
}

/**
 * kafkajs sends one call's records for a partition as one record batch, and the broker refuses a batch larger than
 * its message.max.bytes (1 MiB by default) whole, which in a checkpoint would fail the transaction again on every
 * retry. Sends are cut well under it; a single record larger than this goes alone.
 */
const MAX_SEND_BYTES = 512 * 1024;

function messageBytes(message: Message): number {
  let bytes = 64;
  if (message.key) bytes += message.key.length;
  if (message.value) bytes += message.value.length;
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += name.length + (typeof value === "string" || Buffer.isBuffer(value) ? value.length : 0);
  return bytes;
}

export function* chunksUnder(messages: readonly Message[], maxBytes: number): Generator<Message[]> {
  let chunk: Message[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = messageBytes(message);
    if (chunk.length > 0 && bytes + size > maxBytes) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(message);
    bytes += size;
  }
  if (chunk.length > 0) yield chunk;
}

interface OffsetEntry {
  partition: number;
  offset: string;
  metadata?: string;
}

function groupByTopic(offsets: readonly PartitionOffset[]): Array<{ topic: string; partitions: OffsetEntry[] }> {
  const byTopic = new Map<string, OffsetEntry[]>();
  for (const { topic, partition, offset, metadata } of offsets) {
    const list = byTopic.get(topic) ?? [];
    list.push(metadata === undefined ? { partition, offset: String(offset) } : { partition, offset: String(offset), metadata });
    byTopic.set(topic, list);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}
