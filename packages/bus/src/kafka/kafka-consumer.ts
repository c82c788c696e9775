import type { Consumer as KafkaJsConsumer, EachBatchPayload, IHeaders, KafkaMessage } from "kafkajs";
import { setTimeout as sleep } from "node:timers/promises";
import type { ConsumedRecord, Consumer, ConsumerOptions, Headers, TopicPartitions } from "../bus.ts";
import { toBusError } from "../bus-error.ts";
import { OffsetCommitter } from "./kafka-offset-committer.ts";

const retryInitialMs = 100;
const retryMaxMs = 5_000;

/**
 * Wraps a kafkajs consumer group member. Offsets move only after the handler succeeded: in `after-batch` mode the
 * consumer commits them (in the background, see OffsetCommitter), in `transactional` mode the handler's transaction
 * did. A handler that throws makes it get the same records again after a backoff (at-least-once); nothing is skipped.
 * With `concurrency` above 1 the batches of one fetch (one per partition) are handled at the same time, kafkajs's
 * `partitionsConsumedConcurrently`: kafkajs fetches again only once all of them are done, so handling them one after
 * the other made every record wait for the sum of the others' handling times.
 */
export class KafkaConsumer implements Consumer {
  readonly #client: KafkaJsConsumer;
  readonly #options: ConsumerOptions;
  readonly #committer: OffsetCommitter;
  /** Batches being handled now, so that `stop` can wait for them before committing and leaving. */
  readonly #handling = new Set<Promise<void>>();
  #assignment: TopicPartitions[] = [];
  #started = false;
  #stopping = false;

  constructor(client: KafkaJsConsumer, options: ConsumerOptions) {
    this.#client = client;
    this.#options = options;
    this.#committer = new OffsetCommitter(
      client,
      (error) => this.#report(toBusError(error, `kafka consumer ${options.groupId}: committing offsets failed`, { groupId: options.groupId })),
      options.commitIntervalMs ?? 0,
    );
    client.on(client.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment;
      this.#assignment = Object.entries(assigned).map(([topic, partitions]) => ({ topic, partitions: [...partitions].sort((a, b) => a - b) }));
      this.#committer.retain(this.#assignment);
      const result = options.onAssignment?.(this.#assignment);
      if (result) result.catch((error: unknown) => this.#report(toBusError(error, "onAssignment failed")));
    });
    client.on(client.events.CRASH, (event) => {
      this.#report(toBusError(event.payload.error, `kafka consumer ${options.groupId} crashed`, { groupId: options.groupId }));
    });
  }

  assignment(): readonly TopicPartitions[] {
    return this.#assignment;
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const { groupId, topics } = this.#options;
    try {
      await this.#client.connect();
      await this.#client.subscribe({ topics: [...topics], fromBeginning: this.#options.fromBeginning ?? false });
      await this.#client.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.max(1, Math.floor(this.#options.concurrency ?? 1)),
        eachBatch: (payload) => this.#eachBatch(payload),
      });
    } catch (error) {
      throw toBusError(error, `kafka consumer ${groupId}: start failed`, { groupId, topic: topics.join(",") });
    }
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    if (this.#options.commit === "transactional") {
      // Nothing to commit here (the handler's transactions did): kafkajs waits for the batch in flight, then leaves
      // the group so its partitions move at once. (The aggregator's stages stop and rejoin this way after a fencing,
      // and are tested with that timing.)
      await this.#client.disconnect();
      this.#assignment = [];
      return;
    }
    // No batch starts any more; the ones being handled finish and their offsets are committed before the member
    // leaves the group (after leaving, a commit is refused). Then kafkajs leaves, so the partitions move at once.
    this.#stopping = true;
    try {
      this.#client.pause(this.#options.topics.map((topic) => ({ topic })));
    } catch {
      // Not running (start failed): nothing is being handled.
    }
    await Promise.allSettled([...this.#handling]);
    await this.#committer.flush();
    await this.#client.disconnect();
    this.#stopping = false;
    this.#assignment = [];
  }

  async #eachBatch(payload: EachBatchPayload): Promise<void> {
    // Fetched before `stop` paused the partitions: left unhandled (and uncommitted) for the next owner.
    if (this.#stopping) return;
    const handling = this.#handle(payload);
    this.#handling.add(handling);
    try {
      await handling;
    } finally {
      this.#handling.delete(handling);
    }
  }

  async #handle(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const isStale = (): boolean => payload.isStale();
    const isRunning = (): boolean => payload.isRunning();
    const heartbeat = (): Promise<void> => payload.heartbeat();
    const resolveOffset = (offset: string): void => payload.resolveOffset(offset);
    if (isStale() || !isRunning()) return;
    const records = batch.messages.map((message) => toRecord(batch.topic, batch.partition, message));
    const lastOffset = Number(batch.lastOffset());
    const consumed = { topic: batch.topic, partition: batch.partition, records, highWatermark: Number(batch.highWatermark), lastOffset, heartbeat };
    // A failed batch is retried here, in order, until it succeeds or the partition moves to another member;
    // handing the error to kafkajs would crash the consumer on errors it deems non-retriable.
    for (let delay = retryInitialMs; ; delay = Math.min(delay * 2, retryMaxMs)) {
      try {
        await this.#options.handler(consumed);
        break;
      } catch (error) {
        this.#report(toBusError(error, `handler failed on ${batch.topic}[${batch.partition}]`, {
          topic: batch.topic,
          partition: batch.partition,
          groupId: this.#options.groupId,
        }));
        await sleep(delay * (0.5 + Math.random() / 2));
        if (!isRunning() || isStale() || this.#stopping) return;
        await heartbeat();
      }
    }
    // The batch's last offset, transaction markers included: resuming before a marker would fetch it forever.
    resolveOffset(batch.lastOffset());
    if ((this.#options.commit ?? "after-batch") === "after-batch") {
      this.#committer.add(batch.topic, batch.partition, lastOffset + 1);
      // kafkajs is stopping on its own (not through `stop`) and leaves the group once this batch returns.
      if (!isRunning()) await this.#committer.flush();
    }
  }

  #report(error: Error): void {
    this.#options.onError?.(error);
  }
}

function toRecord(topic: string, partition: number, message: KafkaMessage): ConsumedRecord {
  return {
    topic,
    partition,
    offset: Number(message.offset),
    key: message.key,
    value: message.value,
    headers: message.headers ? toHeaders(message.headers) : noHeaders,
    timestamp: Number(message.timestamp),
  };
}

const noHeaders: Headers = Object.freeze({});

function toHeaders(raw: IHeaders): Headers {
  const headers: Record<string, string> = {};
  for (const name in raw) {
    const value = raw[name];
    if (value === undefined) continue;
    // Kafka allows a header name to repeat; meshloop's contracts never repeat one, so the first value counts.
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) headers[name] = typeof first === "string" ? first : first.toString("utf8");
  }
  return headers;
}
