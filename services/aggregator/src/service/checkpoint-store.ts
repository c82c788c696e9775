import type { StateStore } from "@meshloop/store";

/**
 * Where a stage keeps the state of one input partition between owners, in step with the Kafka transaction that
 * commits its outputs and its input offset.
 *
 * The rule that keeps state, outputs and offsets from disagreeing: each checkpoint of the state is saved under a new
 * id *before* the transaction that commits the offset, and the transaction carries that id as the offset's commit
 * metadata. A new owner reads the committed offset and its metadata from Kafka and loads exactly that checkpoint. A
 * checkpoint whose transaction never committed (a crash, or a fenced zombie) is never loaded, and is deleted once a
 * later one committed. Saves carry the owner's epoch, taken when it claimed the partition, so an instance that lost
 * the partition cannot overwrite anything a newer owner relies on (Redis fencing, beside Kafka's transactional-id
 * fencing of the outputs).
 */
const CHECKPOINT_FORMAT = 2;

/** The owner epoch a checkpoint id or part key starts with; Infinity (never pruned) for anything else. */
function epochOf(rest: string, separator: string): number {
  const epoch = Number(rest.slice(0, rest.indexOf(separator)));
  return Number.isInteger(epoch) && epoch > 0 ? epoch : Number.POSITIVE_INFINITY;
}

/** What a checkpoint key holds: the processor's state and the store keys of the parts it refers to. */
interface CheckpointRecord {
  format: typeof CHECKPOINT_FORMAT;
  state: string;
  parts: Record<string, string>;
}

export interface StoredCheckpoint {
  readonly state: string;
  readonly parts: ReadonlyMap<string, string>;
}

export class CheckpointStore {
  readonly #store: StateStore;
  readonly #prefix: string;

  /** `prefix` names the stage and its input topic, e.g. `aggregator:stage1:meshloop.spans.v1`. */
  constructor(store: StateStore, prefix: string) {
    this.#store = store;
    this.#prefix = prefix;
  }

  /** A new epoch for the partition's new owner; every older owner's saves are refused from now on. */
  async claim(partition: number): Promise<number> {
    const epoch = await this.#store.increment(this.#key(partition, "epoch"));
    await this.#store.setMax(this.#key(partition, "fence"), epoch);
    return epoch;
  }

  /**
   * The checkpoint's state and the parts it refers to, or null when any of it is gone (a wiped store). A checkpoint
   * saved before parts existed is a bare state string.
   */
  async load(partition: number, checkpointId: string): Promise<StoredCheckpoint | null> {
    const raw = await this.#store.get(this.#key(partition, `state:${checkpointId}`));
    if (raw === null) return null;
    const record = JSON.parse(raw) as Partial<CheckpointRecord>;
    if (record.format !== CHECKPOINT_FORMAT || typeof record.state !== "string") return { state: raw, parts: new Map() };
    const parts = new Map<string, string>();
    for (const [id, key] of Object.entries(record.parts ?? {})) {
      const content = await this.#store.get(key);
      if (content === null) return null;
      parts.set(id, content);
    }
    return { state: record.state, parts };
  }

  /** Throws FencedError when a newer owner has claimed the partition. */
  save(partition: number, epoch: number, checkpointId: string, checkpoint: { state: string; parts: ReadonlyMap<string, string> }): Promise<void> {
    const record: CheckpointRecord = { format: CHECKPOINT_FORMAT, state: checkpoint.state, parts: Object.fromEntries(checkpoint.parts) };
    return this.#store.fencedSet(this.#key(partition, "fence"), epoch, this.#key(partition, `state:${checkpointId}`), JSON.stringify(record));
  }

  /** Saves one part under a key of this owner's epoch (fenced like `save`); returns the key. */
  async savePart(partition: number, epoch: number, partId: string, content: string): Promise<string> {
    const key = this.#key(partition, `part:${epoch}:${partId}`);
    await this.#store.fencedSet(this.#key(partition, "fence"), epoch, key, content);
    return key;
  }

  /**
   * Deletes the checkpoints of the partition but `keep` (the committed one), and the parts it does not refer to, of
   * this owner's epoch and older ones only. An owner replaced right after its last commit may still be pruning when
   * the next owner saves its first checkpoint: keys of a newer epoch are never its to delete.
   */
  async prune(partition: number, epoch: number, keep: string, keepParts: ReadonlySet<string> = new Set()): Promise<void> {
    // One scan over the partition's keys (the epoch and fence keys are left alone).
    const states = this.#key(partition, "state:");
    const parts = this.#key(partition, "part:");
    const stale: string[] = [];
    for await (const key of this.#store.keys(this.#key(partition, ""))) {
      if (key.startsWith(states)) {
        // Checkpoint ids are `<epoch>.<sequence>`.
        if (key !== `${states}${keep}` && epochOf(key.slice(states.length), ".") <= epoch) stale.push(key);
      } else if (key.startsWith(parts)) {
        // Part keys are `part:<epoch>:<id>`.
        if (!keepParts.has(key) && epochOf(key.slice(parts.length), ":") <= epoch) stale.push(key);
      }
    }
    if (stale.length > 0) await this.#store.delete(...stale);
  }

  #key(partition: number, what: string): string {
    return `${this.#prefix}:${partition}:${what}`;
  }
}
