import { setTimeout as sleep } from "node:timers/promises";
import type { Consumer, ConsumerOptions, TopicPartitions } from "../bus.ts";
import { BusError, toBusError } from "../bus-error.ts";
import type { MemoryBroker } from "./memory-broker.ts";
import type { GroupMember, MemoryGroup } from "./memory-group.ts";

const maxBatchRecords = 500;
const idleWaitMs = 250;
const retryDelayMs = 100;

/**
 * A consumer group member over the in-memory broker, with the Kafka adapter's delivery guarantees: up to
 * `concurrency` partitions' batches at once, never two of the same partition.
 */
export class MemoryConsumer implements Consumer, GroupMember {
  readonly topics: readonly string[];
  readonly #broker: MemoryBroker;
  readonly #group: MemoryGroup;
  readonly #options: ConsumerOptions;
  #assignment: TopicPartitions[] = [];
  /** Next offset to deliver, per "topic\0partition". */
  readonly #positions = new Map<string, number>();
  #running = false;
  #paused = true;
  #loop: Promise<void> | null = null;
  /** Batches being handled, by "topic\0partition". */
  readonly #inflight = new Map<string, Promise<void>>();
  #cursor = 0;

  constructor(broker: MemoryBroker, group: MemoryGroup, options: ConsumerOptions) {
    this.#broker = broker;
    this.#group = group;
    this.#options = options;
    this.topics = [...options.topics];
  }

  assignment(): readonly TopicPartitions[] {
    return this.#assignment;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    for (const topic of this.topics) this.#broker.topic(topic);
    this.#running = true;
    this.#loop = this.#run();
    await this.#group.join(this);
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#broker.wakeAll();
    await this.#loop;
    await this.#group.leave(this);
    this.#assignment = [];
  }

  async pause(): Promise<void> {
    this.#paused = true;
    await Promise.all(this.#inflight.values());
  }

  async assign(assignment: TopicPartitions[]): Promise<void> {
    this.#assignment = assignment;
    this.#positions.clear();
    for (const { topic, partitions } of assignment) {
      for (const partition of partitions) {
        const committed = this.#broker.committedOffset(this.#options.groupId, topic, partition);
        const end = this.#broker.topic(topic).partitions[partition]!.length;
        this.#positions.set(slot(topic, partition), committed ?? (this.#options.fromBeginning ? 0 : end));
      }
    }
    if (this.#running) {
      try {
        await this.#options.onAssignment?.(assignment);
      } catch (error) {
        this.#options.onError?.(toBusError(error, "onAssignment failed"));
      }
    }
    this.#paused = false;
    this.#broker.wakeAll();
  }

  async #run(): Promise<void> {
    const limit = Math.max(1, Math.floor(this.#options.concurrency ?? 1));
    while (this.#running) {
      const work = this.#paused || this.#inflight.size >= limit ? null : this.#nextBatch();
      if (!work) {
        // A finished batch frees a lane (and its partition may hold more); with a lane free, new records count too.
        const finished = [...this.#inflight.values()];
        await Promise.race(this.#inflight.size >= limit ? finished : [this.#broker.waitForRecords(idleWaitMs), ...finished]);
        continue;
      }
      const key = slot(work.topic, work.partition);
      const handling = this.#process(work.topic, work.partition, work.from).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, handling);
    }
    await Promise.all(this.#inflight.values());
  }

  /** Picks the next assigned partition with records waiting and no batch in hand, rotating so none starves. */
  #nextBatch(): { topic: string; partition: number; from: number } | null {
    const slots = [...this.#positions.keys()];
    for (let i = 0; i < slots.length; i++) {
      const key = slots[(this.#cursor + i) % slots.length]!;
      if (this.#inflight.has(key)) continue;
      const [topic, partitionText] = key.split("\u0000") as [string, string];
      const partition = Number(partitionText);
      const from = this.#positions.get(key)!;
      if (from < this.#broker.topic(topic).partitions[partition]!.length) {
        this.#cursor = (this.#cursor + i + 1) % slots.length;
        return { topic, partition, from };
      }
    }
    return null;
  }

  async #process(topic: string, partition: number, from: number): Promise<void> {
    const log = this.#broker.topic(topic).partitions[partition]!;
    const records = log.slice(from, from + maxBatchRecords);
    try {
      await this.#options.handler({
        topic,
        partition,
        records,
        highWatermark: log.length,
        lastOffset: records[records.length - 1]!.offset,
        heartbeat: async () => undefined,
      });
    } catch (error) {
      this.#options.onError?.(
        error instanceof BusError ? error : toBusError(error, `handler failed on ${topic}[${partition}]`, { topic, partition }),
      );
      // Redelivered from the same offset after a pause, as the Kafka adapter does after a failed batch.
      await sleep(retryDelayMs);
      return;
    }
    const next = records[records.length - 1]!.offset + 1;
    this.#positions.set(slot(topic, partition), next);
    if ((this.#options.commit ?? "after-batch") === "after-batch") {
      this.#broker.commit(this.#options.groupId, topic, partition, next);
    }
  }
}

function slot(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
