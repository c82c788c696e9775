/**
 * The bus port: the only way meshloop services publish and consume. Two adapters implement it, Kafka (kafkajs)
 * for deployments and an in-memory one for the embedded mode and unit tests; one contract suite holds both to
 * the same behaviour.
 */

export type Headers = Readonly<Record<string, string>>;

export interface OutgoingRecord {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Headers;
  /** An explicit partition wins over the producer's partitioner. */
  partition?: number;
  /** Milliseconds since the epoch; the moment of `send` when absent. */
  timestamp?: number;
}

export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  /** Kafka offsets are 64-bit, but 2^53 records in one partition is beyond any real topic. */
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Headers;
  readonly timestamp: number;
}

export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** The offset to resume from: the offset of the next record to process (Kafka's convention). */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /**
   * Committed with the offset, atomically (Kafka's offset-commit metadata): a stage names here the checkpoint of
   * its state that belongs to this offset.
   */
  readonly metadata?: string;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor?: number;
  /** Topic-level settings such as `min.insync.replicas`, `max.message.bytes`, `retention.ms`, `cleanup.policy`. */
  readonly config?: Readonly<Record<string, string>>;
}

export type Partitioner = (key: Buffer, partitionCount: number) => number;

export interface ProducerOptions {
  /** Picks the partition of keyed records without an explicit one; Java's murmur2 by default. */
  partitioner?: Partitioner;
  /** How long a send waits for others to share its request, in ms. 0 sends at once. */
  lingerMs?: number;
  /** A request is sent early once it holds this many bytes of keys and values. */
  maxBatchBytes?: number;
}

export interface Producer {
  connect(): Promise<void>;
  /** Resolves once every record is acknowledged by all in-sync replicas; rejects if any was not stored. */
  send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]>;
  /** Bytes accepted by `send` and not yet acknowledged: what a caller uses to apply backpressure. */
  readonly pendingBytes: number;
  /** Sends what is lingering and waits for it. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface Transaction {
  send(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /** Commits these consumer-group offsets together with the records, or not at all. */
  sendOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void>;
}

export interface TransactionalProducerOptions {
  /**
   * Stable per unit of work (for example per input partition): a new producer with the same id fences the
   * old one, so a zombie that lost its partitions cannot commit any more.
   */
  transactionalId: string;
  partitioner?: Partitioner;
}

export interface TransactionalProducer {
  connect(): Promise<void>;
  /** Runs `work` in one transaction: committed when it resolves, aborted when it throws. */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface ConsumedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ConsumedRecord[];
  /** The partition's end offset when the batch was fetched: `highWatermark - lastOffset - 1` is the lag. */
  readonly highWatermark: number;
  /**
   * The offset of the batch's last entry, counting transaction markers, which are never delivered as records: the
   * position to resume from is `lastOffset + 1`. A batch of markers only arrives with no records.
   */
  readonly lastOffset: number;
  /** Keeps the group membership alive during long processing. */
  heartbeat(): Promise<void>;
}

export type CommitMode =
  /**
   * Offsets are committed after the handler resolves: at-least-once. The commit runs in the background (the next
   * batch does not wait for it) and `stop` waits for it; a crash or a rebalance may redeliver the last batches.
   */
  | "after-batch"
  /** The handler commits offsets itself through `Transaction.sendOffsets`; the consumer never commits. */
  | "transactional";

export interface ConsumerOptions {
  groupId: string;
  topics: readonly string[];
  /** Where a group with no committed offset starts: the oldest record (true) or only new ones (false). */
  fromBeginning?: boolean;
  commit?: CommitMode;
  /**
   * Batches of this many partitions are handled at the same time (1 by default). One partition's batches are always
   * handled one at a time, in offset order; a handler that shares state across partitions must allow for the overlap.
   */
  concurrency?: number;
  /**
   * In `after-batch` mode, offsets are committed at most this often, in milliseconds (0, the default: as soon as the
   * previous commit is answered). A longer interval sends fewer requests; a crash redelivers more records.
   */
  commitIntervalMs?: number;
  /** Longest time a member may go without a heartbeat before the group gives its partitions away. */
  sessionTimeoutMs?: number;
  handler: (batch: ConsumedBatch) => Promise<void>;
  /** Called with the full new assignment after every rebalance (eager: all partitions were revoked first). */
  onAssignment?: (assignment: readonly TopicPartitions[]) => void | Promise<void>;
  /** Called when the handler or the client fails; the consumer keeps going from the last committed offset. */
  onError?: (error: Error) => void;
}

export interface Consumer {
  start(): Promise<void>;
  /** Stops fetching, waits for the batch in flight, commits, and leaves the group. */
  stop(): Promise<void>;
  assignment(): readonly TopicPartitions[];
}

export interface Bus {
  readonly kind: "kafka" | "memory";
  producer(options?: ProducerOptions): Producer;
  transactionalProducer(options: TransactionalProducerOptions): TransactionalProducer;
  consumer(options: ConsumerOptions): Consumer;
  /** Creates missing topics; existing ones are left as they are. */
  ensureTopics(specs: readonly TopicSpec[]): Promise<void>;
  deleteTopics(names: readonly string[]): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  /** The next offset to be written, per partition. */
  endOffsets(topic: string): Promise<PartitionOffset[]>;
  /** The group's committed offsets for a topic (partitions without a commit are absent). */
  committedOffsets(groupId: string, topic: string): Promise<PartitionOffset[]>;
  close(): Promise<void>;
}
