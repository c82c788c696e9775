import type { ConsumedRecord, Headers, OutgoingRecord, Partitioner, TopicSpec } from "../bus.ts";
import { BusError } from "../bus-error.ts";
import { choosePartition, recordBytes, toBuffer } from "../records.ts";

/** Kafka's default `max.message.bytes`; a topic's own setting overrides it, as on a broker. */
const defaultMaxMessageBytes = 1_048_588;

export interface MemoryTopic {
  readonly name: string;
  readonly partitions: ConsumedRecord[][];
  readonly maxMessageBytes: number;
}

/**
 * The shared state of an in-memory "cluster": topics as arrays of records per partition, consumer-group offsets
 * and transactional epochs. Everything is synchronous, so a transaction's commit is atomic by construction.
 */
export class MemoryBroker {
  readonly topics = new Map<string, MemoryTopic>();
  readonly committed = new Map<string, Map<string, { offset: number; metadata?: string }>>();
  readonly transactionalEpochs = new Map<string, number>();
  readonly #waiters = new Set<() => void>();

  createTopic(spec: TopicSpec): void {
    if (this.topics.has(spec.name)) return;
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new BusError(`memory bus: topic ${spec.name} needs at least one partition, got ${spec.partitions}`);
    }
    const configured = spec.config?.["max.message.bytes"];
    this.topics.set(spec.name, {
      name: spec.name,
      partitions: Array.from({ length: spec.partitions }, () => []),
      maxMessageBytes: configured === undefined ? defaultMaxMessageBytes : Number(configured),
    });
  }

  topic(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (!topic) throw new BusError(`memory bus: topic ${name} does not exist`, { context: { topic: name } });
    return topic;
  }

  /** Checks and converts records without storing them, so a batch is stored whole or not at all. */
  prepare(
    topicName: string,
    records: readonly OutgoingRecord[],
    partitioner: Partitioner,
    nextSequence: () => number,
  ): Array<{ partition: number; record: Omit<ConsumedRecord, "offset"> }> {
    const topic = this.topic(topicName);
    const now = Date.now();
    return records.map((outgoing) => {
      const key = toBuffer(outgoing.key);
      const value = toBuffer(outgoing.value);
      const headers: Headers = outgoing.headers ? { ...outgoing.headers } : {};
      const size = recordBytes(key, value) + headerBytes(headers);
      if (size > topic.maxMessageBytes) {
        throw new BusError(
          `memory bus: a record of ${size} bytes exceeds max.message.bytes ${topic.maxMessageBytes} of topic ${topicName}`,
          { context: { topic: topicName, type: "MESSAGE_TOO_LARGE" } },
        );
      }
      const partition = choosePartition(topicName, outgoing, key, topic.partitions.length, partitioner, nextSequence());
      return { partition, record: { topic: topicName, partition, key, value, headers, timestamp: outgoing.timestamp ?? now } };
    });
  }

  append(prepared: ReadonlyArray<{ partition: number; record: Omit<ConsumedRecord, "offset"> }>): number[] {
    const offsets = prepared.map(({ partition, record }) => {
      const log = this.topic(record.topic).partitions[partition]!;
      log.push({ ...record, offset: log.length });
      return log.length - 1;
    });
    this.#wake();
    return offsets;
  }

  commit(groupId: string, topic: string, partition: number, offset: number, metadata?: string): void {
    let offsets = this.committed.get(groupId);
    if (!offsets) {
      offsets = new Map();
      this.committed.set(groupId, offsets);
    }
    offsets.set(`${topic}\u0000${partition}`, metadata === undefined ? { offset } : { offset, metadata });
  }

  committedOffset(groupId: string, topic: string, partition: number): number | undefined {
    return this.committed.get(groupId)?.get(`${topic}\u0000${partition}`)?.offset;
  }

  committedMetadata(groupId: string, topic: string, partition: number): string | undefined {
    return this.committed.get(groupId)?.get(`${topic}\u0000${partition}`)?.metadata;
  }

  /** Resolves on the next append (or after `timeoutMs`), so idle consumers do not spin. */
  waitForRecords(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  wakeAll(): void {
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

function headerBytes(headers: Headers): number {
  let bytes = 0;
  for (const name in headers) bytes += name.length + Buffer.byteLength(headers[name]!);
  return bytes;
}
