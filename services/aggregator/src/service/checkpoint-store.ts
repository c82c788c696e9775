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

  load(partition: number, checkpointId: string): Promise<string | null> {
    return this.#store.get(this.#key(partition, `state:${checkpointId}`));
  }

  /** Throws FencedError when a newer owner has claimed the partition. */
  save(partition: number, epoch: number, checkpointId: string, state: string): Promise<void> {
    return this.#store.fencedSet(this.#key(partition, "fence"), epoch, this.#key(partition, `state:${checkpointId}`), state);
  }

  /** Deletes every checkpoint of the partition but `keep` (the committed one). */
  async prune(partition: number, keep: string): Promise<void> {
    const prefix = this.#key(partition, "state:");
    const stale: string[] = [];
    for await (const key of this.#store.keys(prefix)) if (key !== `${prefix}${keep}`) stale.push(key);
    if (stale.length > 0) await this.#store.delete(...stale);
  }

  #key(partition: number, what: string): string {
    return `${this.#prefix}:${partition}:${what}`;
  }
}
