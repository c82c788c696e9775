import { FencedError } from "@meshloop/errors";
import type {
  Bus,
  Consumer,
  ConsumerOptions,
  OutgoingRecord,
  PartitionOffset,
  Producer,
  ProducerOptions,
  RecordPosition,
  TopicSpec,
  Transaction,
  TransactionalProducer,
  TransactionalProducerOptions,
} from "../bus.ts";
import { BusError } from "../bus-error.ts";
import { murmur2Partition } from "../murmur2.ts";
import { MemoryBroker } from "./memory-broker.ts";
import { MemoryConsumer } from "./memory-consumer.ts";
import { MemoryGroup } from "./memory-group.ts";

/**
 * The embedded mode's bus: partitions, offsets, consumer groups with rebalancing, and transactions, all in this
 * process. Services written against the port run unchanged on it; nothing survives the process.
 */
export function createMemoryBus(): Bus {
  return new MemoryBus(new MemoryBroker());
}

class MemoryBus implements Bus {
  readonly kind = "memory";
  readonly #broker: MemoryBroker;
  readonly #groups = new Map<string, MemoryGroup>();
  readonly #consumers = new Set<Consumer>();

  constructor(broker: MemoryBroker) {
    this.#broker = broker;
  }

  producer(options: ProducerOptions = {}): Producer {
    const broker = this.#broker;
    const partitioner = options.partitioner ?? murmur2Partition;
    let sequence = 0;
    let closed = false;
    return {
      pendingBytes: 0,
      connect: async () => undefined,
      send: async (topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]> => {
        if (closed) throw new BusError(`memory bus: send to ${topic} on a closed producer`, { context: { topic } });
        const prepared = broker.prepare(topic, records, partitioner, () => sequence++);
        const offsets = broker.append(prepared);
        return prepared.map(({ partition }, i) => ({ topic, partition, offset: offsets[i]! }));
      },
      flush: async () => undefined,
      close: async () => {
        closed = true;
      },
    };
  }

  transactionalProducer(options: TransactionalProducerOptions): TransactionalProducer {
    const broker = this.#broker;
    const id = options.transactionalId;
    if (id.trim() === "") throw new BusError("memory bus: transactionalId must not be empty");
    const partitioner = options.partitioner ?? murmur2Partition;
    let epoch = 0;
    let sequence = 0;
    const connect = async (): Promise<void> => {
      if (epoch > 0) return;
      // Like InitProducerId: a new producer with this id fences every older one.
      epoch = (broker.transactionalEpochs.get(id) ?? 0) + 1;
      broker.transactionalEpochs.set(id, epoch);
    };
    return {
      connect,
      transaction: async <T>(work: (tx: Transaction) => Promise<T>): Promise<T> => {
        await connect();
        const sends: Array<ReturnType<MemoryBroker["prepare"]>> = [];
        const offsets: Array<{ groupId: string; offset: PartitionOffset }> = [];
        const result = await work({
          send: async (topic, records) => {
            sends.push(broker.prepare(topic, records, partitioner, () => sequence++));
          },
          sendOffsets: async (groupId, list) => {
            for (const offset of list) offsets.push({ groupId, offset });
          },
        });
        if (broker.transactionalEpochs.get(id) !== epoch) {
          throw new FencedError(`memory bus: transactional id ${id} was taken over by a newer producer`, {
            context: { transactionalId: id },
          });
        }
        for (const prepared of sends) broker.append(prepared);
        for (const { groupId, offset } of offsets) broker.commit(groupId, offset.topic, offset.partition, offset.offset, offset.metadata);
        return result;
      },
      close: async () => undefined,
    };
  }

  consumer(options: ConsumerOptions): Consumer {
    if (options.topics.length === 0) throw new BusError(`memory bus: consumer group ${options.groupId} subscribes to no topic`);
    let group = this.#groups.get(options.groupId);
    if (!group) {
      group = new MemoryGroup(this.#broker);
      this.#groups.set(options.groupId, group);
    }
    const consumer = new MemoryConsumer(this.#broker, group, options);
    this.#consumers.add(consumer);
    return consumer;
  }

  async ensureTopics(specs: readonly TopicSpec[]): Promise<void> {
    for (const spec of specs) this.#broker.createTopic(spec);
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    for (const name of names) this.#broker.topics.delete(name);
  }

  async partitionCount(topic: string): Promise<number> {
    return this.#broker.topic(topic).partitions.length;
  }

  async endOffsets(topic: string): Promise<PartitionOffset[]> {
    return this.#broker.topic(topic).partitions.map((log, partition) => ({ topic, partition, offset: log.length }));
  }

  async committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]> {
    const offsets: PartitionOffset[] = [];
    this.#broker.topic(topic).partitions.forEach((_log, partition) => {
      const offset = this.#broker.committedOffset(groupId, topic, partition);
      const metadata = this.#broker.committedMetadata(groupId, topic, partition);
      if (offset !== undefined) offsets.push({ topic, partition, offset, ...(metadata === undefined ? {} : { metadata }) });
    });
    return offsets;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#consumers].map((consumer) => consumer.stop()));
    this.#consumers.clear();
  }
}
