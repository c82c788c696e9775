import { ConfigError } from "@meshloop/errors";

/** A value of one of the three kinds the port knows, with its absolute expiry time (ms on the backend's clock). */
export type Entry =
  | { kind: "string"; value: string; expiresAt: number | undefined }
  | { kind: "hash"; fields: Map<string, string>; expiresAt: number | undefined }
  | { kind: "zset"; scores: Map<string, number>; expiresAt: number | undefined };

export interface MemoryBackendOptions {
  /** The clock TTLs are measured on, in ms; tests inject one they can move. Date.now by default. */
  now?: () => number;
}

// Expired entries go when touched (as in Redis); this occasional sweep frees those nobody touches again.
const sweepEveryWrites = 1024;

/**
 * What a Redis server is to the Redis adapter: one keyspace that several memory stores, each under its own
 * keyPrefix, can share, for instance all services of the embedded mode, or two stores in an isolation test.
 */
export class MemoryBackend {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #writes = 0;

  constructor(now: () => number) {
    this.#now = now;
  }

  now(): number {
    return this.#now();
  }

  /** The live entry at a full (prefixed) key; an expired one is removed on the way. */
  read(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== undefined && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  write(key: string, entry: Entry): void {
    this.#entries.set(key, entry);
    if (++this.#writes % sweepEveryWrites === 0) this.#sweep();
  }

  remove(key: string): boolean {
    return this.read(key) !== undefined && this.#entries.delete(key);
  }

  /** Full keys of live entries starting with `prefix`, from a snapshot, so callers may write while iterating. */
  liveKeys(prefix: string): string[] {
    const found: string[] = [];
    for (const key of [...this.#entries.keys()]) {
      if (key.startsWith(prefix) && this.read(key) !== undefined) found.push(key);
    }
    return found;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) this.#entries.delete(key);
    }
  }
}

export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  const now = options.now ?? Date.now;
  if (typeof now !== "function") throw new ConfigError("memory store backend: now must be a function returning ms");
  return new MemoryBackend(now);
}
