import { Redis } from "ioredis";
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
} from "./arguments.ts";
import { toStoreError } from "./redis-errors.ts";
import { resolveRedisStoreOptions } from "./redis-options.ts";
import type { RedisStoreOptions } from "./redis-options.ts";
import { compareAndSetScript, fencedSetScript, runScript, setMaxScript } from "./redis-scripts.ts";
import { closedError, fencedError } from "./store-error.ts";
import type { RangeOptions, ScoredMember, SetOptions, StateStore, TtlOptions } from "./store.ts";

/**
 * A command queued while disconnected fails after this many reconnection attempts (ioredis counts them), so a
 * dead Redis surfaces within a few hundred ms instead of holding callers; a brief blip is still ridden out.
 */
const maxRetriesPerRequest = 1;
const scanCount = 500;

/**
 * The Redis adapter. It connects in the background (commands wait in ioredis's offline queue meanwhile) and
 * reconnects forever with capped backoff, so a service outlives a Redis restart; each command is bounded by
 * commandTimeoutMs and maxRetriesPerRequest, and fails with a retriable UnavailableError when Redis is away.
 * The key prefix is applied here rather than by ioredis, whose keyPrefix misses SCAN patterns and script keys.
 */
export function createRedisStore(options: RedisStoreOptions): StateStore {
  const resolved = resolveRedisStoreOptions(options);
  const { keyPrefix } = resolved;
  const client = new Redis({
    host: resolved.host,
    port: resolved.port,
    db: resolved.db,
    ...(resolved.username === undefined ? {} : { username: resolved.username }),
    ...(resolved.password === undefined ? {} : { password: resolved.password }),
    ...(resolved.tls === undefined ? {} : { tls: resolved.tls }),
    connectTimeout: resolved.connectTimeoutMs,
    commandTimeout: resolved.commandTimeoutMs,
    maxRetriesPerRequest,
    enableOfflineQueue: true,
    // A command in flight when the connection drops is not sent again: a second run could count an increment
    // twice or make a compareAndSet that won report a loss. It times out with an UnavailableError instead.
    autoResendUnfulfilledCommands: false,
    // Capped at 1 s: with maxRetriesPerRequest 1 a command waits at most two attempts, so about 2 s, for a dead Redis.
    retryStrategy: (attempt) => Math.min(50 * 2 ** (attempt - 1), 1000),
  });
  let lastConnectionError: Error | undefined;
  // Without a listener ioredis prints every failed reconnection; the last one explains later UnavailableErrors.
  client.on("error", (error: Error) => { lastConnectionError = error; });
  client.on("ready", () => { lastConnectionError = undefined; });
  let closed = false;

  async function run<T>(op: string, key: string | undefined, command: () => Promise<T>): Promise<T> {
    if (closed) throw closedError(op, key);
    try {
      return await command();
    } catch (error) {
      throw toStoreError(error, { op, key, address: resolved.address, lastConnectionError });
    }
  }
  function full(key: string): string {
    return keyPrefix + key;
  }

  return {
    kind: "redis",
    keyPrefix,

    async get(key: string): Promise<string | null> {
      checkKey("get", key);
      return run("get", key, () => client.get(full(key)));
    },

    async getMany(keys: readonly string[]): Promise<(string | null)[]> {
      checkKeys("getMany", keys);
      if (keys.length === 0) return run("getMany", undefined, async () => []);
      return run("getMany", keys.length === 1 ? keys[0] : undefined, () => client.mget(keys.map(full)));
    },

    async set(key: string, value: string, setOptions: SetOptions = {}): Promise<boolean> {
      checkKey("set", key);
      checkTtl("set", key, setOptions.ttlMs);
      const { ttlMs, onlyIfAbsent } = setOptions;
      const reply = await run("set", key, () => {
        if (ttlMs === undefined) return onlyIfAbsent === true ? client.set(full(key), value, "NX") : client.set(full(key), value);
        return onlyIfAbsent === true ? client.set(full(key), value, "PX", ttlMs, "NX") : client.set(full(key), value, "PX", ttlMs);
      });
      return reply === "OK";
    },

    async delete(...keys: string[]): Promise<number> {
      checkKeys("delete", keys);
      if (keys.length === 0) return run("delete", undefined, async () => 0);
      return run("delete", keys.length === 1 ? keys[0] : undefined, () => client.del(...keys.map(full)));
    },

    async increment(key: string, by = 1): Promise<number> {
      checkKey("increment", key);
      checkIncrement(key, by);
      return run("increment", key, () => client.incrby(full(key), by));
    },

    async setMax(key: string, value: number): Promise<number> {
      checkKey("setMax", key);
      checkFinite("setMax", key, "value", value);
      return Number(await run("setMax", key, () => runScript(client, setMaxScript, [full(key)], [String(value)])));
    },

    async compareAndSet(key: string, expected: string | null, next: string, ttl: TtlOptions = {}): Promise<boolean> {
      checkKey("compareAndSet", key);
      checkTtl("compareAndSet", key, ttl.ttlMs);
      const args = [expected === null ? "0" : "1", expected ?? "", next, ttl.ttlMs === undefined ? "" : String(ttl.ttlMs)];
      return (await run("compareAndSet", key, () => runScript(client, compareAndSetScript, [full(key)], args))) === 1;
    },

    async fencedSet(fenceKey: string, epoch: number, key: string, value: string, ttl: TtlOptions = {}): Promise<void> {
      checkKey("fencedSet", fenceKey);
      checkKey("fencedSet", key);
      checkEpoch(key, epoch);
      checkTtl("fencedSet", key, ttl.ttlMs);
      const args = [String(epoch), value, ttl.ttlMs === undefined ? "" : String(ttl.ttlMs)];
      const reply = await run("fencedSet", key, () => runScript(client, fencedSetScript, [full(fenceKey), full(key)], args));
      const [written, currentEpoch] = reply as [number, string?];
      if (written !== 1) throw fencedError(fenceKey, epoch, key, currentEpoch ?? "?");
    },

    async hashSet(key: string, fields: Readonly<Record<string, string>>): Promise<number> {
      checkKey("hashSet", key);
      // HSET with no fields is a syntax error; writing nothing is simply nothing new.
      if (Object.keys(fields).length === 0) return run("hashSet", key, async () => 0);
      return run("hashSet", key, () => client.hset(full(key), fields));
    },

    async hashGet(key: string, field: string): Promise<string | null> {
      checkKey("hashGet", key);
      return run("hashGet", key, () => client.hget(full(key), field));
    },

    async hashGetAll(key: string): Promise<Record<string, string>> {
      checkKey("hashGetAll", key);
      return run("hashGetAll", key, () => client.hgetall(full(key)));
    },

    async hashDelete(key: string, ...fields: string[]): Promise<number> {
      checkKey("hashDelete", key);
      if (fields.length === 0) return run("hashDelete", key, async () => 0);
      return run("hashDelete", key, () => client.hdel(full(key), ...fields));
    },

    async expire(key: string, ttlMs: number): Promise<boolean> {
      checkKey("expire", key);
      checkTtl("expire", key, ttlMs);
      return (await run("expire", key, () => client.pexpire(full(key), ttlMs))) === 1;
    },

    async sortedSetAdd(key: string, member: string, score: number): Promise<boolean> {
      checkKey("sortedSetAdd", key);
      checkFinite("sortedSetAdd", key, "score", score);
      return (await run("sortedSetAdd", key, () => client.zadd(full(key), String(score), member))) === 1;
    },

    async sortedSetRangeByScore(key: string, min: number, max: number, range: RangeOptions = {}): Promise<ScoredMember[]> {
      checkKey("sortedSetRangeByScore", key);
      checkBounds("sortedSetRangeByScore", key, min, max);
      checkLimit("sortedSetRangeByScore", key, range.limit);
      const { limit } = range;
      const flat = await run("sortedSetRangeByScore", key, () =>
        limit === undefined
          ? client.zrangebyscore(full(key), bound(min), bound(max), "WITHSCORES")
          : client.zrangebyscore(full(key), bound(min), bound(max), "WITHSCORES", "LIMIT", 0, limit));
      const found: ScoredMember[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) found.push({ member: flat[i]!, score: Number(flat[i + 1]) });
      return found;
    },

    async sortedSetRemove(key: string, ...members: string[]): Promise<number> {
      checkKey("sortedSetRemove", key);
      if (members.length === 0) return run("sortedSetRemove", key, async () => 0);
      return run("sortedSetRemove", key, () => client.zrem(full(key), ...members));
    },

    async sortedSetRemoveRangeByScore(key: string, min: number, max: number): Promise<number> {
      checkKey("sortedSetRemoveRangeByScore", key);
      checkBounds("sortedSetRemoveRangeByScore", key, min, max);
      return run("sortedSetRemoveRangeByScore", key, () => client.zremrangebyscore(full(key), bound(min), bound(max)));
    },

    async *keys(prefix: string): AsyncIterable<string> {
      checkPrefix(prefix);
      const start = full(prefix);
      const pattern = `${escapeGlob(start)}*`;
      // SCAN may return a key twice (while the server rehashes); the port promises each key once.
      const seen = new Set<string>();
      let cursor = "0";
      do {
        const [next, batch] = await run("keys", undefined, () => client.scan(cursor, "MATCH", pattern, "COUNT", scanCount));
        cursor = next;
        for (const key of batch) {
          if (seen.has(key) || !key.startsWith(start)) continue;
          seen.add(key);
          yield key.slice(keyPrefix.length);
        }
      } while (cursor !== "0");
    },

    async ping(): Promise<void> {
      await run("ping", undefined, () => client.ping());
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // QUIT lets replies in flight arrive; without a live connection there is nothing to wait for.
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}

/** A score bound as Redis writes it: ±Infinity are "+inf" and "-inf". */
function bound(value: number): string {
  if (value === Infinity) return "+inf";
  if (value === -Infinity) return "-inf";
  return String(value);
}

/** SCAN MATCH takes a glob: a prefix such as `edges[a]*` must match literally, not as a pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[\\*?[\]]/g, "\\$&");
}
