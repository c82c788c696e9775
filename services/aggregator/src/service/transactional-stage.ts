import type { Bus, ConsumedBatch, ConsumedRecord, Consumer, OutgoingRecord, TopicPartitions, TransactionalProducer } from "@meshloop/bus";
import { ValidationError, withRetry } from "@meshloop/errors";
import type { Logger } from "@meshloop/runtime";
import type { StateStore } from "@meshloop/store";
import { setTimeout as sleep } from "node:timers/promises";
import { CheckpointStore } from "./checkpoint-store.ts";

const REJOIN_FIRST_DELAY_MS = 500;
const REJOIN_MAX_DELAY_MS = 10_000;

/** An output record and the topic it goes to. */
export interface StageOutput {
  readonly topic: string;
  readonly record: OutgoingRecord;
}

/**
 * A processor's state for a checkpoint: `state` refers to `parts` by id. A part's content never changes under the
 * same id (for one processor instance), so the stage stores each part once and later checkpoints only refer to it:
 * large state that changes slowly (the dedup filter's sealed generations) is not written again every time.
 */
export interface ProcessorSnapshot {
  readonly state: string;
  readonly parts: ReadonlyArray<{ readonly id: string; encode(): string }>;
}

/** The pure state of one input partition, as a stage runs it. */
export interface PartitionProcessor {
  /** Throws ValidationError for a record that can never be processed; the stage counts and skips it. */
  fold(record: ConsumedRecord, partitionCount: number): StageOutput[];
  /** Advances event time on a caught-up, idle partition. */
  tick(nowMs: number): StageOutput[];
  snapshot(): ProcessorSnapshot;
}

export interface StageCounters {
  onCheckpoint(partition: number, outputs: number, durationMs: number): void;
  onDiscarded(partition: number, error: Error): void;
  onStateLost(partition: number): void;
}

export interface TransactionalStageOptions {
  /** Names the consumer group, the transactional ids and the checkpoint keys, e.g. `meshloop-aggregator-stage1`. */
  name: string;
  bus: Bus;
  store: StateStore;
  inputTopic: string;
  create(partition: number, partitionCount: number): PartitionProcessor;
  /** `parts` maps each part id the snapshot's state refers to to its content. */
  restore(partition: number, state: string, parts: ReadonlyMap<string, string>): PartitionProcessor;
  /** How often a partition's outputs, offset and state are committed together (the end-to-end latency floor). */
  checkpointIntervalMs: number;
  /** How often caught-up idle partitions are ticked. */
  tickIntervalMs: number;
  sessionTimeoutMs: number;
  logger: Logger;
  counters: StageCounters;
  now?: () => number;
}

interface Unit {
  readonly partition: number;
  readonly epoch: number;
  readonly processor: PartitionProcessor;
  readonly producer: TransactionalProducer;
  pending: StageOutput[];
  /** The next input offset to commit; null until a record of this owner was folded (or one was committed before). */
  nextOffset: number | null;
  caughtUp: boolean;
  lastCheckpointAt: number;
  sequence: number;
  /** Snapshot parts saved by this owner: part id -> store key. */
  savedParts: Map<string, string>;
  /** Serialises folds, ticks and checkpoints of the partition. */
  chain: Promise<void>;
}

/**
 * Runs a pure per-partition processor over a Kafka consumer group with exactly-once hand-over: outputs and the input
 * offset are written in one Kafka transaction per checkpoint (one transactional id per input partition, so a zombie
 * that lost the partition is fenced), and the processor's state is saved under a checkpoint id that the same
 * transaction commits as the offset's metadata (CheckpointStore). After a crash, a rebalance or a zombie's wake-up,
 * the new owner resumes from the committed offset with exactly the state that produced the committed outputs.
 */
export class TransactionalStage {
  readonly #options: TransactionalStageOptions;
  readonly #checkpoints: CheckpointStore;
  readonly #units = new Map<number, Promise<Unit>>();
  readonly #now: () => number;
  #consumer: Consumer | null = null;
  #partitionCount = 0;
  #ticker: NodeJS.Timeout | null = null;
  #restarting: Promise<void> | null = null;
  #stopped = false;
  readonly #assigned = Promise.withResolvers<void>();

  constructor(options: TransactionalStageOptions) {
    this.#options = options;
    this.#checkpoints = new CheckpointStore(options.store, `${options.name}:${options.inputTopic}`);
    this.#now = options.now ?? Date.now;
  }

  get groupId(): string {
    return this.#options.name;
  }

  async start(): Promise<void> {
    const { bus, inputTopic } = this.#options;
    this.#partitionCount = await bus.partitionCount(inputTopic);
    this.#consumer = this.#newConsumer();
    await this.#consumer.start();
    this.#ticker = setInterval(() => this.#tickAll(), this.#options.tickIntervalMs);
  }

  #newConsumer(): Consumer {
    return this.#options.bus.consumer({
      groupId: this.groupId,
      topics: [this.#options.inputTopic],
      fromBeginning: true,
      commit: "transactional",
      sessionTimeoutMs: this.#options.sessionTimeoutMs,
      handler: (batch) => this.#onBatch(batch),
      onAssignment: (assignment) => this.#onAssignment(assignment),
      onError: (error) => this.#options.logger.warn({ err: error }, "stage consumer error"),
    });
  }

  /**
   * Commits what every owned partition has pending while it still owns them, then leaves the group: committing
   * after leaving could race the next owner's start.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#restarting;
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = null;
    const units = await Promise.all([...this.#units.values()].map((unit) => unit.catch(() => null)));
    await Promise.allSettled(units.map((unit) => (unit ? this.#serial(unit, () => this.#checkpoint(unit)) : Promise.resolve())));
    await this.#consumer?.stop();
    await Promise.allSettled([...this.#units.keys()].map((partition) => this.#release(partition)));
  }

  /** Partitions owned now (for tests and metrics). */
  owned(): number[] {
    return [...this.#units.keys()].sort((a, b) => a - b);
  }

  /**
   * After every rebalance the consumer fetches from the committed offsets again, so every partition restarts from
   * its committed checkpoint, kept or not: uncommitted work is dropped, never counted twice.
   */
  #onAssignment(assignment: readonly TopicPartitions[]): void {
    for (const partition of [...this.#units.keys()]) void this.#release(partition);
    const mine = assignment.find((entry) => entry.topic === this.#options.inputTopic)?.partitions ?? [];
    const claims = mine.map((partition) => this.#unit(partition).catch(() => undefined));
    void Promise.all(claims).then(() => this.#assigned.resolve());
  }

  /** Resolves once the first assignment's partitions are claimed (an instance may be assigned none). */
  get assigned(): Promise<void> {
    return this.#assigned.promise;
  }

  #unit(partition: number): Promise<Unit> {
    let unit = this.#units.get(partition);
    if (!unit) {
      unit = this.#claim(partition);
      this.#units.set(partition, unit);
      unit.catch((error: unknown) => {
        this.#units.delete(partition);
        this.#options.logger.error({ err: error, partition }, "could not take over the partition");
      });
    }
    return unit;
  }

  async #claim(partition: number): Promise<Unit> {
    const { bus, inputTopic, logger } = this.#options;
    // Fence first: from here on, the previous owner can neither save state nor commit a transaction.
    const producer = bus.transactionalProducer({ transactionalId: `${this.groupId}-${inputTopic}-${partition}` });
    await producer.connect();
    const epoch = await this.#checkpoints.claim(partition);
    const committed = (await bus.committedOffsets(this.groupId, inputTopic)).find((entry) => entry.partition === partition);
    let processor: PartitionProcessor | null = null;
    if (committed?.metadata !== undefined) {
      const checkpoint = await this.#checkpoints.load(partition, committed.metadata);
      if (checkpoint !== null) processor = this.#options.restore(partition, checkpoint.state, checkpoint.parts);
    }
    if (processor === null) {
      if (committed !== undefined) {
        // The offset says work was done, but its state is gone (Redis wiped): continue, and say so.
        this.#options.counters.onStateLost(partition);
        logger.warn({ partition, offset: committed.offset }, "checkpointed state not found; continuing from the committed offset with empty state");
      }
      processor = this.#options.create(partition, this.#partitionCount);
    }
    logger.info({ partition, epoch, offset: committed?.offset ?? null, restored: committed?.metadata !== undefined }, "partition claimed");
    return {
      partition,
      epoch,
      processor,
      producer,
      pending: [],
      nextOffset: committed?.offset ?? null,
      caughtUp: false,
      lastCheckpointAt: this.#now(),
      sequence: 0,
      savedParts: new Map(),
      chain: Promise.resolve(),
    };
  }

  async #release(partition: number): Promise<void> {
    const claimed = this.#units.get(partition);
    this.#units.delete(partition);
    const unit = await claimed?.catch(() => null);
    if (!unit) return;
    await unit.chain.catch(() => undefined);
    await unit.producer.close().catch(() => undefined);
  }

  /**
   * A checkpoint failed (fenced by a newer owner, or Kafka or Redis away): what this instance holds may be ahead of
   * what committed, so it rejoins from scratch, and every partition it gets restarts from its committed checkpoint.
   */
  #restart(error: unknown): void {
    if (this.#restarting) return;
    this.#restarting = (async () => {
      this.#options.logger.warn({ err: error }, "checkpoint failed; rejoining the group from the committed checkpoints");
      await this.#consumer?.stop().catch(() => undefined);
      this.#consumer = null;
      await Promise.allSettled([...this.#units.keys()].map((partition) => this.#release(partition)));
      // The broker may be away for longer than one connect's retries: keep trying (a stage without a consumer
      // would otherwise stay idle for good while the process looks alive), until it rejoins or is stopped.
      for (let attempt = 0; !this.#stopped; attempt++) {
        const consumer = this.#newConsumer();
        try {
          await consumer.start();
          this.#consumer = consumer;
          return;
        } catch (rejoinError) {
          await consumer.stop().catch(() => undefined);
          this.#options.logger.error({ err: rejoinError, attempt }, "rejoining failed; trying again");
          await sleep(Math.min(REJOIN_MAX_DELAY_MS, REJOIN_FIRST_DELAY_MS * 2 ** attempt));
        }
      }
    })().finally(() => { this.#restarting = null; });
  }

  /** False while the stage has no consumer (rejoining after a failed checkpoint): /readyz says so. */
  get consuming(): boolean {
    return this.#consumer !== null && this.#restarting === null;
  }

  async #onBatch(batch: ConsumedBatch): Promise<void> {
    if (this.#restarting) return;
    const unit = await this.#unit(batch.partition);
    await this.#serial(unit, async () => {
      for (const record of batch.records) {
        // A batch handed again after a failure: what was folded already is not folded twice.
        if (unit.nextOffset !== null && record.offset < unit.nextOffset) continue;
        try {
          for (const output of unit.processor.fold(record, this.#partitionCount)) unit.pending.push(output);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          this.#options.counters.onDiscarded(unit.partition, error);
        }
        unit.nextOffset = record.offset + 1;
      }
      // Past transaction markers too (a batch of markers only comes with no records).
      if (unit.nextOffset === null || batch.lastOffset + 1 > unit.nextOffset) unit.nextOffset = batch.lastOffset + 1;
      unit.caughtUp = unit.nextOffset >= batch.highWatermark;
      if (this.#now() - unit.lastCheckpointAt >= this.#options.checkpointIntervalMs) await this.#checkpointOrRestart(unit);
    });
  }

  /**
   * Retriable failures (a coordinator still completing the previous transaction, a broker briefly away) are tried
   * again; each try saves the state under a new checkpoint id, so a retry never reuses an aborted one. Anything else,
   * or a fencing, makes the instance rejoin.
   */
  async #checkpointOrRestart(unit: Unit): Promise<void> {
    try {
      await withRetry(() => this.#checkpoint(unit), { attempts: 5, initialDelayMs: 50, maxDelayMs: 1_000 });
    } catch (error) {
      this.#restart(error);
    }
  }

  #tickAll(): void {
    if (this.#restarting) return;
    void this.#refreshCaughtUp().then(() => this.#tickUnits());
  }

  /**
   * A partition claimed with nothing left to read gets no batch, so no batch can say it is caught up: compare its
   * position with the partition's end instead.
   */
  async #refreshCaughtUp(): Promise<void> {
    const units = await Promise.all([...this.#units.values()].map((unit) => unit.catch(() => null)));
    if (units.every((unit) => unit === null || unit.caughtUp)) return;
    const ends = await this.#options.bus.endOffsets(this.#options.inputTopic).catch(() => []);
    for (const unit of units) {
      const end = ends.find((entry) => entry.partition === unit?.partition)?.offset;
      if (unit && end !== undefined) unit.caughtUp = end === 0 || (unit.nextOffset !== null && unit.nextOffset >= end);
    }
  }

  #tickUnits(): void {
    for (const pending of this.#units.values()) {
      void pending.then((unit) =>
        this.#serial(unit, async () => {
          // Only a caught-up partition may advance on the clock: a lagging one would make its unread records late.
          if (unit.caughtUp) {
            for (const output of unit.processor.tick(this.#now())) unit.pending.push(output);
          }
          if (this.#now() - unit.lastCheckpointAt >= this.#options.checkpointIntervalMs) await this.#checkpointOrRestart(unit);
        }),
      ).catch((error: unknown) => this.#options.logger.error({ err: error }, "tick failed"));
    }
  }

  /**
   * Runs `work` on the processor of an input partition this instance owns, between its folds; false when it owns
   * no such partition (or is still claiming it). For side inputs that need no exactness of their own (gauges).
   */
  async visit(partition: number, work: (processor: PartitionProcessor) => void): Promise<boolean> {
    const claimed = this.#units.get(partition);
    if (claimed === undefined) return false;
    const unit = await claimed.catch(() => null);
    if (unit === null || this.#units.get(partition) !== claimed) return false;
    await this.#serial(unit, async () => work(unit.processor));
    return true;
  }

  #serial(unit: Unit, work: () => Promise<void>): Promise<void> {
    const run = unit.chain.then(work);
    unit.chain = run.catch(() => undefined);
    return run;
  }

  /** Saves the state, then commits outputs + offset (+ the state's id) in one transaction. */
  async #checkpoint(unit: Unit): Promise<void> {
    unit.lastCheckpointAt = this.#now();
    if (unit.pending.length === 0 && unit.nextOffset === null) return;
    const started = performance.now();
    const outputs = unit.pending;
    const checkpointId = `${unit.epoch}.${++unit.sequence}`;
    const { inputTopic } = this.#options;
    const partKeys = unit.nextOffset !== null ? await this.#saveState(unit, checkpointId) : null;
    await unit.producer.transaction(async (tx) => {
      const byTopic = new Map<string, OutgoingRecord[]>();
      for (const { topic, record } of outputs) {
        const list = byTopic.get(topic) ?? [];
        list.push(record);
        byTopic.set(topic, list);
      }
      for (const [topic, records] of byTopic) await tx.send(topic, records);
      if (unit.nextOffset !== null) {
        await tx.sendOffsets(this.groupId, [{ topic: inputTopic, partition: unit.partition, offset: unit.nextOffset, metadata: checkpointId }]);
      }
    });
    unit.pending = [];
    this.#options.counters.onCheckpoint(unit.partition, outputs.length, performance.now() - started);
    if (partKeys !== null) {
      await this.#checkpoints.prune(unit.partition, unit.epoch, checkpointId, new Set(partKeys.values()));
      for (const id of unit.savedParts.keys()) if (!partKeys.has(id)) unit.savedParts.delete(id);
    }
  }

  /** Saves the parts this owner has not saved yet, then the state naming them; returns part id -> key. */
  async #saveState(unit: Unit, checkpointId: string): Promise<Map<string, string>> {
    const snapshot = unit.processor.snapshot();
    const partKeys = new Map<string, string>();
    for (const part of snapshot.parts) {
      let key = unit.savedParts.get(part.id);
      if (key === undefined) {
        key = await this.#checkpoints.savePart(unit.partition, unit.epoch, part.id, part.encode());
        unit.savedParts.set(part.id, key);
      }
      partKeys.set(part.id, key);
    }
    await this.#checkpoints.save(unit.partition, unit.epoch, checkpointId, { state: snapshot.state, parts: partKeys });
    return partKeys;
  }
}
