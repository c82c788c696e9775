/**
 * The state-store port: the only way meshloop services keep state. Two adapters implement it, Redis (ioredis)
 * for deployments and an in-memory one for the embedded mode and unit tests; one contract suite holds both to
 * the same behaviour, which is Redis's behaviour (the memory adapter imitates it, down to empty hashes vanishing).
 *
 * Every key is namespaced by the store's `keyPrefix`; callers never see the prefix, `keys()` included.
 * Values are strings; numbers written by `increment` and `setMax` are stored as their decimal strings, so `get`
 * reads them too. Writes that replace a string (`set`, `compareAndSet`, `fencedSet`) also replace its TTL, with
 * `ttlMs` or with none, as Redis's SET does; `increment`, `setMax` and hash and sorted-set writes keep it.
 */

export interface SetOptions {
  /** The key disappears after this many milliseconds (a positive integer). Without it the key stays. */
  ttlMs?: number;
  /** Writes only when the key does not exist; `set` then returns false if it did. */
  onlyIfAbsent?: boolean;
}

export interface TtlOptions {
  ttlMs?: number;
}

export interface ScoredMember {
  readonly member: string;
  readonly score: number;
}

export interface RangeOptions {
  /** At most this many members, from the lowest score. */
  limit?: number;
}

export interface StateStore {
  readonly kind: "redis" | "memory";
  readonly keyPrefix: string;

  get(key: string): Promise<string | null>;
  /** One result per key, in order; null for keys that are missing or hold a hash or a sorted set. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  /** Returns false only when `onlyIfAbsent` is set and the key exists; the value is then left alone. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  /** Deletes keys of any kind; returns how many existed. */
  delete(...keys: string[]): Promise<number>;
  /**
   * Adds `by` (an integer, 1 by default) to an integer value, a missing key counting as 0, and returns the sum.
   * When the connection fails mid-command the increment may or may not have happened: the UnavailableError says
   * so, and a blind retry can count twice.
   */
  increment(key: string, by?: number): Promise<number>;
  /**
   * Atomically stores max(current, value) and returns that maximum: a high-water mark that never goes back,
   * however many writers race (last processed window end, last applied generation, a fence epoch).
   */
  setMax(key: string, value: number): Promise<number>;
  /**
   * Atomically writes `next` if the key holds `expected` (null: if the key is missing); true when it wrote.
   * Of many concurrent calls from the same `expected` value exactly one wins.
   */
  compareAndSet(key: string, expected: string | null, next: string, options?: TtlOptions): Promise<boolean>;
  /**
   * Writes `key` only while `epoch` is at least the epoch stored at `fenceKey`, raising the fence to `epoch`,
   * all atomically. An owner with an older epoch (an instance that lost its partitions but still runs) is
   * refused with a FencedError, which is never retriable: it must stop writing, not try again. A new owner can
   * claim the fence before its first write with `setMax(fenceKey, epoch)`.
   */
  fencedSet(fenceKey: string, epoch: number, key: string, value: string, options?: TtlOptions): Promise<void>;

  /** Sets the given fields, keeping the others; returns how many fields are new. */
  hashSet(key: string, fields: Readonly<Record<string, string>>): Promise<number>;
  hashGet(key: string, field: string): Promise<string | null>;
  /** All fields, {} for a missing key. */
  hashGetAll(key: string): Promise<Record<string, string>>;
  /** Returns how many of the fields existed. A hash whose last field goes is deleted. */
  hashDelete(key: string, ...fields: string[]): Promise<number>;

  /** Gives an existing key of any kind a TTL; false when the key does not exist. */
  expire(key: string, ttlMs: number): Promise<boolean>;

  /** Adds a member or moves it to a new score; true when the member is new. */
  sortedSetAdd(key: string, member: string, score: number): Promise<boolean>;
  /**
   * Members with min <= score <= max (±Infinity for open ends), by score, then by member (byte order) among
   * equal scores.
   */
  sortedSetRangeByScore(key: string, min: number, max: number, options?: RangeOptions): Promise<ScoredMember[]>;
  /** Returns how many of the members existed. A sorted set whose last member goes is deleted. */
  sortedSetRemove(key: string, ...members: string[]): Promise<number>;
  /** Removes members with min <= score <= max (expiring graph edges by last-seen time); returns how many. */
  sortedSetRemoveRangeByScore(key: string, min: number, max: number): Promise<number>;

  /**
   * The store's keys that start with `prefix`, without the store's keyPrefix, each once, in no particular order.
   * Redis walks them with SCAN, so keys written meanwhile may or may not appear.
   */
  keys(prefix: string): AsyncIterable<string>;

  /** Resolves when the store answers; rejects with UnavailableError otherwise. For readiness probes. */
  ping(): Promise<void>;
  /** Releases the connection. Later calls reject with a non-retriable StoreError; closing again is harmless. */
  close(): Promise<void>;
}
