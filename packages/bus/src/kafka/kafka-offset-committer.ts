import type { TopicPartitions } from "../bus.ts";

/** The part of a kafkajs consumer that commits offsets. */
export interface OffsetCommitClient {
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
}

interface PendingOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * Commits the offsets of handled batches in the background, one request at a time: a request carries the newest
 * offset of every partition handled since the previous one went out. Awaiting a commit after every batch put an
 * OffsetCommit round trip (1-3 ms, tens of ms on a busy broker) into every fetch cycle, and kafkajs fetches again
 * only when every batch of the last fetch is done; now no batch waits for the coordinator, and a busy consumer
 * sends one commit per round of batches instead of one per batch.
 *
 * With `intervalMs` above 0 a request goes out at most that often: the offsets wait, and each request carries more.
 *
 * Only handled batches are ever added, so a commit never skips a record: a failed or late commit means the next
 * owner of the partition gets the last batches again (at-least-once), never that one is lost.
 */
export class OffsetCommitter {
  readonly #client: OffsetCommitClient;
  readonly #onError: (error: unknown) => void;
  readonly #intervalMs: number;
  #pending = new Map<string, PendingOffset>();
  #inflight: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(client: OffsetCommitClient, onError: (error: unknown) => void, intervalMs = 0) {
    this.#client = client;
    this.#onError = onError;
    this.#intervalMs = intervalMs;
  }

  /** `offset` is the next offset to read (the last handled one + 1). */
  add(topic: string, partition: number, offset: number): void {
    const key = slot(topic, partition);
    const current = this.#pending.get(key);
    if (current === undefined || offset > current.offset) this.#pending.set(key, { topic, partition, offset });
    this.#next();
  }

  /**
   * After a rebalance: offsets of partitions this member lost are dropped, as the new owner's commits are the ones
   * that count (committing an older offset after them would only cause redelivery).
   */
  retain(assignment: readonly TopicPartitions[]): void {
    const owned = new Set(assignment.flatMap(({ topic, partitions }) => partitions.map((partition) => slot(topic, partition))));
    for (const key of this.#pending.keys()) if (!owned.has(key)) this.#pending.delete(key);
  }

  /**
   * Resolves once every offset added so far has been committed or its commit has failed (and been reported); what
   * waits for the interval goes out at once.
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.#timer !== null) {
        clearTimeout(this.#timer);
        this.#timer = null;
        this.#send();
      }
      if (this.#inflight === null) return;
      await this.#inflight;
    }
  }

  #next(): void {
    if (this.#inflight !== null || this.#timer !== null || this.#pending.size === 0) return;
    const wait = this.#lastSentAt + this.#intervalMs - Date.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#send();
      }, wait);
      // A pending commit never keeps a process alive: stopping flushes it.
      this.#timer.unref();
      return;
    }
    this.#send();
  }

  #send(): void {
    if (this.#inflight !== null || this.#pending.size === 0) return;
    this.#lastSentAt = Date.now();
    const offsets = [...this.#pending.values()].map(({ topic, partition, offset }) => ({ topic, partition, offset: String(offset) }));
    this.#pending = new Map();
    this.#inflight = this.#client
      .commitOffsets(offsets)
      // Not put back: the partition's next commit carries a newer offset, and until then the worst is redelivery.
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        this.#inflight = null;
        this.#next();
      });
  }
}

function slot(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
