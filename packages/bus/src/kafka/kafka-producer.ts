import type { Message, Producer as KafkaJsProducer, RecordMetadata, TopicMessages } from "kafkajs";
import { CompressionTypes } from "kafkajs";
import type { OutgoingRecord, Partitioner, Producer, RecordPosition } from "../bus.ts";
import { toBusError } from "../bus-error.ts";
import { choosePartition, recordBytes, toBuffer } from "../records.ts";
import type { Compression } from "./kafka-options.ts";

const compressionTypes: Record<Compression, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  lz4: CompressionTypes.LZ4,
};

interface PendingSend {
  topic: string;
  messages: Message[];
  partitions: number[];
  bytes: number;
  resolve: (positions: RecordPosition[]) => void;
  reject: (error: Error) => void;
}

export interface KafkaProducerDeps {
  /** Makes a kafkajs producer; called again when the idempotent producer's state has to be thrown away. */
  createClient: () => KafkaJsProducer;
  partitionCount: (topic: string) => number | Promise<number>;
  partitioner: Partitioner;
  compression: Compression;
  lingerMs: number;
  maxBatchBytes: number;
}

/**
 * Broker answers that mean the idempotent producer's id or sequence numbers no longer match the broker's: after a
 * broker outage kafkajs rolls back the sequence numbers of a whole failed request even when the broker had written
 * part of it (tulios/kafkajs#598), and from then on every send is refused. kafkajs never recovers by itself; a new
 * client gets a new producer id with fresh sequences.
 */
const PRODUCER_STATE_LOST = new Set(["OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_EPOCH"]);

/**
 * kafkajs sends one request per `send` call. This producer lets concurrent sends share requests: sends queue up
 * while a request is in flight (or for `lingerMs`), then go out together as one `sendBatch`, acknowledged by
 * all in-sync replicas. The client is idempotent, so its own retries cannot duplicate or reorder records.
 */
export class KafkaProducer implements Producer {
  readonly #deps: KafkaProducerDeps;
  #client: KafkaJsProducer;
  #queue: PendingSend[] = [];
  #queuedBytes = 0;
  #pendingBytes = 0;
  #sequence = 0;
  #inflight: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #connecting: Promise<void> | null = null;
  #closed = false;

  /** Times the client was replaced because the broker no longer accepted its producer state. */
  resets = 0;

  constructor(deps: KafkaProducerDeps) {
    this.#deps = deps;
    this.#client = deps.createClient();
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  connect(): Promise<void> {
    this.#connecting ??= this.#client.connect().catch((error: unknown) => {
      this.#connecting = null;
      throw toBusError(error, "kafka producer: connect failed");
    });
    return this.#connecting;
  }

  async send(topic: string, records: readonly OutgoingRecord[]): Promise<RecordPosition[]> {
    if (this.#closed) throw toBusError(new Error("producer is closed"), `kafka producer: send to ${topic}`, { topic });
    if (records.length === 0) return [];
    await this.connect();
    const count = await this.#deps.partitionCount(topic);
    const messages: Message[] = new Array<Message>(records.length);
    const partitions: number[] = new Array<number>(records.length);
    const now = String(Date.now());
    let bytes = 0;
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      const key = toBuffer(record.key);
      const partition = choosePartition(topic, record, key, count, this.#deps.partitioner, this.#sequence++);
      partitions[i] = partition;
      messages[i] = {
        key,
        value: record.value,
        partition,
        headers: record.headers,
        timestamp: record.timestamp === undefined ? now : String(record.timestamp),
      };
      bytes += recordBytes(key, record.value);
    }
    return new Promise<RecordPosition[]>((resolve, reject) => {
      this.#queue.push({ topic, messages, partitions, bytes, resolve, reject });
      this.#queuedBytes += bytes;
      this.#pendingBytes += bytes;
      this.#schedule();
    });
  }

  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    while (this.#queue.length > 0 || this.#inflight) {
      if (!this.#inflight) this.#drain();
      await this.#inflight;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    if (this.#connecting) await this.#client.disconnect();
  }

  #schedule(): void {
    if (this.#inflight || this.#timer) return;
    if (this.#deps.lingerMs <= 0 || this.#queuedBytes >= this.#deps.maxBatchBytes) {
      this.#drain();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#drain();
    }, this.#deps.lingerMs);
  }

  /** Sends everything queued as one request; what queues meanwhile goes in the next one. */
  #drain(): void {
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#inflight = this.#sendBatch(batch).finally(() => {
      this.#inflight = null;
      if (this.#queue.length > 0) this.#schedule();
    });
  }

  /**
   * Replaces the client: what this batch carried was refused (its senders retry, at least once as always), and the
   * next send connects with a new producer id. Sends queued meanwhile wait, since they drain after this batch.
   */
  async #reset(): Promise<void> {
    const old = this.#client;
    this.#client = this.#deps.createClient();
    this.#connecting = null;
    this.resets++;
    await old.disconnect().catch(() => undefined);
  }

  async #sendBatch(batch: PendingSend[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const send of batch) {
      const messages = byTopic.get(send.topic);
      if (messages) for (const message of send.messages) messages.push(message);
      else byTopic.set(send.topic, send.messages.slice());
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    let bytes = 0;
    for (const send of batch) bytes += send.bytes;
    try {
      const metadata = await this.#client.sendBatch({
        topicMessages,
        acks: -1,
        compression: compressionTypes[this.#deps.compression],
      });
      resolvePositions(batch, metadata);
    } catch (error) {
      const topics = [...byTopic.keys()].join(",");
      const wrapped = toBusError(error, `kafka producer: send to ${topics} failed`, { topic: topics });
      for (const send of batch) send.reject(wrapped);
      if (PRODUCER_STATE_LOST.has((error as { type?: string }).type ?? "")) await this.#reset();
    } finally {
      this.#pendingBytes -= bytes;
    }
  }
}

/** Offsets follow the order records were appended to each partition, starting at the request's base offset. */
function resolvePositions(batch: PendingSend[], metadata: RecordMetadata[]): void {
  const next = new Map<string, number>();
  for (const entry of metadata) next.set(`${entry.topicName}\u0000${entry.partition}`, Number(entry.baseOffset));
  for (const send of batch) {
    const positions: RecordPosition[] = new Array<RecordPosition>(send.partitions.length);
    for (let i = 0; i < send.partitions.length; i++) {
      const partition = send.partitions[i]!;
      const slot = `${send.topic}\u0000${partition}`;
      const offset = next.get(slot) ?? -1;
      if (offset >= 0) next.set(slot, offset + 1);
      positions[i] = { topic: send.topic, partition, offset };
    }
    send.resolve(positions);
  }
}
