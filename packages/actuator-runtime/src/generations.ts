import { targetKey } from "@meshloop/contracts";
import type { Mesh, TargetRef } from "@meshloop/contracts";
import type { StateStore } from "@meshloop/store";

/**
 * The last generation each actuator carried out per target, in the store (`actuator:<mesh>:applied:<target>`), as a
 * high-water mark that never goes back (setMax): two instances racing during a rebalance cannot lower it.
 */
export class AppliedGenerations {
  readonly #store: StateStore;
  readonly #mesh: Mesh;

  constructor(store: StateStore, mesh: Mesh) {
    this.#store = store;
    this.#mesh = mesh;
  }

  async last(target: TargetRef): Promise<number> {
    const value = await this.#store.get(this.#key(target));
    return value === null ? 0 : Number(value);
  }

  async record(target: TargetRef, generation: number): Promise<void> {
    await this.#store.setMax(this.#key(target), generation);
  }

  #key(target: TargetRef): string {
    return `actuator:${this.#mesh}:applied:${targetKey(target)}`;
  }
}
