import { ConfigError } from "@meshloop/errors";
import {
  checkBounds,
  checkEpoch,
  checkFinite,
  checkIncrement,
  checkKey,
  checkKeys,
  checkLimit,
  checkPrefix,
  checkTtl,
  parseRedisInteger,
  parseRedisNumber,
} from "./arguments.ts";
import { createMemoryBackend } from "./memory-backend.ts";
import type { Entry, MemoryBackend } from "./memory-backend.ts";
import { closedError, fencedError, notIntegerError, notNumberError, wrongTypeError } from "./store-error.ts";
import type { RangeOptions, ScoredMember, SetOptions, StateStore, TtlOptions } from "./store.ts";

export interface MemoryStoreOptions {
  /** Namespace of every key, as with Redis; "" by default. */
  keyPrefix?: string;
  /** The clock TTLs are measured on, for a store with a backend of its own. Date.now by default. */
  now?: () => number;
  /** A keyspace shared with other memory stores (see createMemoryBackend); a private one by default. */
  backend?: MemoryBackend;
}

/**
 * The in-memory adapter: the embedded mode's store and the unit tests'. It keeps Redis's semantics exactly,
 * TTLs included (checked lazily against the injectable clock). Operations run synchronously inside their
 * promise, so each is atomic, as a Lua script is in Redis.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): StateStore {
  const keyPrefix = options.keyPrefix ?? "";
  if (typeof keyPrefix !== "string") throw new ConfigError("memory store: keyPrefix must be a string");
  if (options.backend !== undefined && options.now !== undefined) {
    throw new ConfigError("memory store: give now or backend, not both; a shared backend has the clock of createMemoryBackend");
  }
  const backend = options.backend ?? createMemoryBackend(options.now === undefined ? {} : { now: options.now });
  let closed = false;

  function open(op: string, key?: string): void {
    if (closed) throw closedError(op, key);
  }
  function full(key: string): string {
    return keyPrefix + key;
  }
  function expiry(ttlMs: number | undefined): number | undefined {
    return ttlMs === undefined ? undefined : backend.now() + ttlMs;
  }
  function readString(op: string, key: string): Extract<Entry, { kind: "string" }> | undefined {
    const entry = backend.read(full(key));
    if (entry !== undefined && entry.kind !== "string") throw wrongTypeError(op, key);
    return entry;
  }
  function readHash(op: string, key: string): Extract<Entry, { kind: "hash" }> | undefined {
    const entry = backend.read(full(key));
    if (entry !== undefined && entry.kind !== "hash") throw wrongTypeError(op, key);
    return entry;
  }
  function readSortedSet(op: string, key: string): Extract<Entry, { kind: "zset" }> | undefined {
    const entry = backend.read(full(key));
    if (entry !== undefined && entry.kind !== "zset") throw wrongTypeError(op, key);
    return entry;
  }
  /** Raises a numeric string to `value` unless it is already at least that; keeps the TTL, like the script. */
  function raise(op: string, key: string, value: number): number {
    const entry = readString(op, key);
    if (entry !== undefined) {
      const current = parseRedisNumber(entry.value);
      if (current === undefined) throw notNumberError(op, key);
      if (current >= value) return current;
    }
    backend.write(full(key), { kind: "string", value: String(value), expiresAt: entry?.expiresAt });
    return value;
  }

  return {
    kind: "memory",
    keyPrefix,

    async get(key: string): Promise<string | null> {
      checkKey("get", key);
      open("get", key);
      return readString("get", key)?.value ?? null;
    },

    async getMany(keys: readonly string[]): Promise<(string | null)[]> {
      checkKeys("getMany", keys);
      open("getMany");
      return keys.map((key) => {
        const entry = backend.read(full(key));
        return entry?.kind === "string" ? entry.value : null;
      });
    },

    async set(key: string, value: string, setOptions: SetOptions = {}): Promise<boolean> {
      checkKey("set", key);
      checkTtl("set", key, setOptions.ttlMs);
      open("set", key);
      if (setOptions.onlyIfAbsent === true && backend.read(full(key)) !== undefined) return false;
      backend.write(full(key), { kind: "string", value, expiresAt: expiry(setOptions.ttlMs) });
      return true;
    },

    async delete(...keys: string[]): Promise<number> {
      checkKeys("delete", keys);
      open("delete");
      return keys.filter((key) => backend.remove(full(key))).length;
    },

    async increment(key: string, by = 1): Promise<number> {
      checkKey("increment", key);
      checkIncrement(key, by);
      open("increment", key);
      const entry = readString("increment", key);
      const current = entry === undefined ? 0 : parseRedisInteger(entry.value);
      if (current === undefined) throw notIntegerError("increment", key);
      const sum = current + by;
      if (!Number.isSafeInteger(sum)) throw notIntegerError("increment", key);
      backend.write(full(key), { kind: "string", value: String(sum), expiresAt: entry?.expiresAt });
      return sum;
    },

    async setMax(key: string, value: number): Promise<number> {
      checkKey("setMax", key);
      checkFinite("setMax", key, "value", value);
      open("setMax", key);
      return raise("setMax", key, value);
    },

    async compareAndSet(key: string, expected: string | null, next: string, ttl: TtlOptions = {}): Promise<boolean> {
      checkKey("compareAndSet", key);
      checkTtl("compareAndSet", key, ttl.ttlMs);
      open("compareAndSet", key);
      if ((readString("compareAndSet", key)?.value ?? null) !== expected) return false;
      backend.write(full(key), { kind: "string", value: next, expiresAt: expiry(ttl.ttlMs) });
      return true;
    },

    async fencedSet(fenceKey: string, epoch: number, key: string, value: string, ttl: TtlOptions = {}): Promise<void> {
      checkKey("fencedSet", fenceKey);
      checkKey("fencedSet", key);
      checkEpoch(key, epoch);
      checkTtl("fencedSet", key, ttl.ttlMs);
      open("fencedSet", key);
      const fence = readString("fencedSet", fenceKey);
      if (fence !== undefined) {
        const current = parseRedisNumber(fence.value);
        if (current === undefined) throw notNumberError("fencedSet", fenceKey);
        if (current > epoch) throw fencedError(fenceKey, epoch, key, fence.value);
      }
      raise("fencedSet", fenceKey, epoch);
      backend.write(full(key), { kind: "string", value, expiresAt: expiry(ttl.ttlMs) });
    },

    async hashSet(key: string, fields: Readonly<Record<string, string>>): Promise<number> {
      checkKey("hashSet", key);
      open("hashSet", key);
      const entries = Object.entries(fields);
      if (entries.length === 0) return 0;
      const hash = readHash("hashSet", key) ?? { kind: "hash", fields: new Map<string, string>(), expiresAt: undefined };
      let added = 0;
      for (const [field, value] of entries) {
        if (!hash.fields.has(field)) added++;
        hash.fields.set(field, value);
      }
      backend.write(full(key), hash);
      return added;
    },

    async hashGet(key: string, field: string): Promise<string | null> {
      checkKey("hashGet", key);
      open("hashGet", key);
      return readHash("hashGet", key)?.fields.get(field) ?? null;
    },

    async hashGetAll(key: string): Promise<Record<string, string>> {
      checkKey("hashGetAll", key);
      open("hashGetAll", key);
      return Object.fromEntries(readHash("hashGetAll", key)?.fields ?? []);
    },

    async hashDelete(key: string, ...fields: string[]): Promise<number> {
      checkKey("hashDelete", key);
      open("hashDelete", key);
      const hash = readHash("hashDelete", key);
      if (hash === undefined) return 0;
      const removed = [...new Set(fields)].filter((field) => hash.fields.delete(field)).length;
      if (hash.fields.size === 0) backend.remove(full(key));
      return removed;
    },

    async expire(key: string, ttlMs: number): Promise<boolean> {
      checkKey("expire", key);
      checkTtl("expire", key, ttlMs);
      open("expire", key);
      const entry = backend.read(full(key));
      if (entry === undefined) return false;
      entry.expiresAt = expiry(ttlMs);
      return true;
    },

    async sortedSetAdd(key: string, member: string, score: number): Promise<boolean> {
      checkKey("sortedSetAdd", key);
      checkFinite("sortedSetAdd", key, "score", score);
      open("sortedSetAdd", key);
      const set = readSortedSet("sortedSetAdd", key) ?? { kind: "zset", scores: new Map<string, number>(), expiresAt: undefined };
      const added = !set.scores.has(member);
      set.scores.set(member, score);
      backend.write(full(key), set);
      return added;
    },

    async sortedSetRangeByScore(key: string, min: number, max: number, range: RangeOptions = {}): Promise<ScoredMember[]> {
      checkKey("sortedSetRangeByScore", key);
      checkBounds("sortedSetRangeByScore", key, min, max);
      checkLimit("sortedSetRangeByScore", key, range.limit);
      open("sortedSetRangeByScore", key);
      const set = readSortedSet("sortedSetRangeByScore", key);
      if (set === undefined) return [];
      const found = [...set.scores]
        .filter(([, score]) => score >= min && score <= max)
        .sort(([memberA, scoreA], [memberB, scoreB]) => scoreA - scoreB || compareCodePoints(memberA, memberB))
        .map(([member, score]) => ({ member, score }));
      return range.limit === undefined ? found : found.slice(0, range.limit);
    },

    async sortedSetRemove(key: string, ...members: string[]): Promise<number> {
      checkKey("sortedSetRemove", key);
      open("sortedSetRemove", key);
      const set = readSortedSet("sortedSetRemove", key);
      if (set === undefined) return 0;
      const removed = [...new Set(members)].filter((member) => set.scores.delete(member)).length;
      if (set.scores.size === 0) backend.remove(full(key));
      return removed;
    },

    async sortedSetRemoveRangeByScore(key: string, min: number, max: number): Promise<number> {
      checkKey("sortedSetRemoveRangeByScore", key);
      checkBounds("sortedSetRemoveRangeByScore", key, min, max);
      open("sortedSetRemoveRangeByScore", key);
      const set = readSortedSet("sortedSetRemoveRangeByScore", key);
      if (set === undefined) return 0;
      let removed = 0;
      for (const [member, score] of set.scores) {
        if (score >= min && score <= max && set.scores.delete(member)) removed++;
      }
      if (set.scores.size === 0) backend.remove(full(key));
      return removed;
    },

    async *keys(prefix: string): AsyncIterable<string> {
      checkPrefix(prefix);
      open("keys");
      for (const key of backend.liveKeys(full(prefix))) yield key.slice(keyPrefix.length);
    },

    async ping(): Promise<void> {
      open("ping");
    },

    async close(): Promise<void> {
      closed = true;
    },
  };
}

/**
 * Orders strings as Redis does, by their UTF-8 bytes, which is code-point order. JavaScript's `<` compares UTF-16
 * units and puts astral characters (surrogate pairs) before U+E000..U+FFFF; shifting the two ranges fixes that.
 */
function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codeUnitRank(x) - codeUnitRank(y);
  }
  return a.length - b.length;
}

function codeUnitRank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}
