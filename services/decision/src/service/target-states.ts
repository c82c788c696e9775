import { targetKey } from "@meshloop/contracts";
import type { TargetRef, WindowAggregate } from "@meshloop/contracts";
import type { StateStore } from "@meshloop/store";
import { initialGlobalState, initialTargetState } from "../target-state.ts";
import type { GlobalState, TargetState } from "../target-state.ts";

/** A message to publish, as kept in the outbox (the value as UTF-8 text: decisions and notices are JSON). */
export interface OutboxMessage {
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A target's state as read, with the exact text it was read as (the precondition of the write that follows) and
 * its outbox: decisions saved with the state that produced them but not yet known to be published.
 */
export interface LoadedTarget {
  readonly state: TargetState;
  readonly outbox: readonly OutboxMessage[];
  readonly raw: string | null;
  /** The operators' global freeze, read in the same round trip as the state. */
  readonly frozen: GlobalState["frozen"];
}

interface StoredTarget {
  readonly state: TargetState;
  readonly outbox: readonly OutboxMessage[];
}

/** What the service shares across its instances through the store: the operators' global freeze. */
type SharedGlobal = Pick<GlobalState, "frozen">;

const GLOBAL_KEY = "decision:global";
const COMMAND_MARK_TTL_MS = 7 * 24 * 3_600_000;
const PARTS_TTL_MS = 10 * 60_000;

/**
 * Per-target state in the store, written with compare-and-set against what was read: an instance that lost a
 * target in a rebalance and still finishes its batch cannot overwrite the new owner's newer state, and an operator
 * command handled by one instance cannot be lost under another instance's evaluation; the loser reads again and
 * redoes its (pure) work.
 */
export class TargetStates {
  readonly #store: StateStore;

  constructor(store: StateStore) {
    this.#store = store;
  }

  /**
   * The target's state and, in the same round trip, the global freeze: every evaluation sees the newest freeze, and
   * a batch no longer reads it first, one round trip before any of its targets.
   */
  async load(target: TargetRef): Promise<LoadedTarget> {
    const [raw = null, shared = null] = await this.#store.getMany([stateKey(target), GLOBAL_KEY]);
    const frozen = shared === null ? null : (JSON.parse(shared) as SharedGlobal).frozen;
    if (raw === null) return { state: initialTargetState(target), outbox: [], raw, frozen };
    const stored = JSON.parse(raw) as StoredTarget;
    return { state: stored.state, outbox: stored.outbox, raw, frozen };
  }

  /**
   * Writes the next state with its outbox; true when written, false when another writer changed the target since
   * `loaded` was read. Returns what was written, as the precondition of the next write.
   */
  async save(loaded: LoadedTarget, next: TargetState, outbox: readonly OutboxMessage[]): Promise<LoadedTarget | null> {
    const raw = JSON.stringify({ state: next, outbox } satisfies StoredTarget);
    const written = await this.#store.compareAndSet(stateKey(next.target), loaded.raw, raw);
    return written ? { state: next, outbox, raw, frozen: loaded.frozen } : null;
  }

  /** The operators' global freeze as stored (the rest of the global state is this instance's own). */
  async loadFrozen(): Promise<GlobalState["frozen"]> {
    const raw = await this.#store.get(GLOBAL_KEY);
    return raw === null ? null : (JSON.parse(raw) as SharedGlobal).frozen;
  }

  async saveGlobal(global: GlobalState): Promise<void> {
    await this.#store.set(GLOBAL_KEY, JSON.stringify({ frozen: global.frozen } satisfies SharedGlobal));
  }

  /** True the first time a command id is seen by any instance: every instance reads the control topic. */
  async firstSight(commandId: string): Promise<boolean> {
    return this.#store.set(`decision:command:${commandId}`, "1", { onlyIfAbsent: true, ttlMs: COMMAND_MARK_TTL_MS });
  }

  /**
   * Collects the parts of a split aggregate; returns all of them once the last arrives, else null. Parts can span
   * consumer batches, and a window judged on some of its parts would be judged again as a replay-free "new" window
   * when the rest came, so nothing is evaluated until the window is whole.
   */
  async collectPart(aggregate: WindowAggregate): Promise<WindowAggregate[] | null> {
    if (aggregate.part.count === 1) return [aggregate];
    const key = `decision:parts:${targetKey(aggregate.target)}:${aggregate.windowStartMs}`;
    await this.#store.hashSet(key, { [String(aggregate.part.index)]: JSON.stringify(aggregate) });
    await this.#store.expire(key, PARTS_TTL_MS);
    const parts = await this.#store.hashGetAll(key);
    if (Object.keys(parts).length < aggregate.part.count) return null;
    await this.#store.delete(key);
    return Object.values(parts).map((text) => JSON.parse(text) as WindowAggregate);
  }

  /**
   * Marks the store as holding this service's state. False when the mark was missing although the service ran
   * before (its consumer group has committed offsets): the store was wiped or replaced.
   */
  async claimStore(ranBefore: boolean): Promise<boolean> {
    const fresh = await this.#store.set("decision:store-epoch", new Date().toISOString(), { onlyIfAbsent: true });
    return !(fresh && ranBefore);
  }

  initialGlobal(): GlobalState {
    return initialGlobalState();
  }
}

function stateKey(target: TargetRef): string {
  return `decision:target:${targetKey(target)}`;
}
