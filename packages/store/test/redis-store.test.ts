import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { ConfigError, UnavailableError } from "@meshloop/errors";
import { acquireInfra, uniqueName } from "@meshloop/test-harness";
import type { InfraLease } from "@meshloop/test-harness";
import { Redis } from "ioredis";
import { createRedisStore } from "../src/index.ts";
import type { StateStore } from "../src/index.ts";
import { collect, storeContract } from "./store-contract.ts";

// The same contract against the real Redis started by infra/redis (the harness starts it if needed). Every test
// works under a key prefix of its own and deletes its keys afterwards.
let lease: InfraLease;
before(async () => {
  lease = await acquireInfra();
});
after(async () => {
  await lease.release();
});

async function deleteAll(keyPrefix: string): Promise<void> {
  const store = createRedisStore({ url: lease.redisUrl, keyPrefix });
  try {
    const keys = await collect(store.keys(""));
    if (keys.length > 0) await store.delete(...keys);
  } finally {
    await store.close();
  }
}

storeContract("redis", async () => {
  const opened: StateStore[] = [];
  const connect = async (keyPrefix: string) => {
    const store = createRedisStore({ url: lease.redisUrl, keyPrefix });
    opened.push(store);
    return store;
  };
  const store = await connect(`${uniqueName("store-contract")}:`);
  return {
    store,
    connect,
    advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    cleanup: async () => {
      await Promise.all(opened.map((s) => s.close()));
      for (const prefix of new Set(opened.map((s) => s.keyPrefix))) await deleteAll(prefix);
    },
  };
});

describe("redis store", () => {
  let raw: Redis;
  before(() => {
    raw = new Redis(lease.redisUrl);
  });
  after(async () => {
    await raw.quit();
  });

  test("every key, those written by scripts included, lives under the keyPrefix in Redis", async () => {
    const keyPrefix = `${uniqueName("store-prefix")}:`;
    const store = createRedisStore({ url: lease.redisUrl, keyPrefix });
    try {
      await store.set("plain", "v");
      await store.setMax("mark", 3);
      await store.compareAndSet("cas", null, "x");
      await store.fencedSet("fence", 1, "state", "s");
      await store.hashSet("hash", { f: "v" });
      await store.sortedSetAdd("zset", "m", 1);
      const inRedis = await collect(rawScan(`${keyPrefix}*`));
      assert.deepEqual(inRedis, ["cas", "fence", "hash", "mark", "plain", "state", "zset"].map((k) => keyPrefix + k));
      assert.equal(await rawGet(`${keyPrefix}mark`), "3");
    } finally {
      await store.close();
      await deleteAll(keyPrefix);
    }
  });

  test("scripts still run after the server's script cache is flushed", async () => {
    const keyPrefix = `${uniqueName("store-scripts")}:`;
    const store = createRedisStore({ url: lease.redisUrl, keyPrefix });
    try {
      assert.equal(await store.setMax("mark", 1), 1);
      await raw.script("FLUSH");
      assert.equal(await store.setMax("mark", 2), 2);
      assert.equal(await store.compareAndSet("k", null, "v"), true);
      await store.fencedSet("fence", 1, "state", "s");
      assert.equal(await store.get("state"), "s");
    } finally {
      await store.close();
      await deleteAll(keyPrefix);
    }
  });

  test("a store pointed at a closed port fails fast with a retriable UnavailableError", async () => {
    const port = await closedPort();
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: "nowhere:", commandTimeoutMs: 3000 });
    try {
      const started = Date.now();
      await assert.rejects(store.get("k"), (error: unknown) => {
        assert.ok(error instanceof UnavailableError, String(error));
        assert.equal(error.retriable, true);
        assert.deepEqual(error.context, { op: "get", key: "k" });
        assert.match(error.message, /ECONNREFUSED/);
        return true;
      });
      await assert.rejects(store.ping(), UnavailableError);
      assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    } finally {
      await store.close();
    }
  });

  test("a server that accepts connections but never answers fails commands after commandTimeoutMs", async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => { sockets.push(socket); });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    const store = createRedisStore({ url: `redis://127.0.0.1:${port}`, keyPrefix: "silent:", commandTimeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(store.setMax("mark", 1), (error: unknown) => {
        assert.ok(error instanceof UnavailableError, String(error));
        assert.equal(error.retriable, true);
        assert.match(error.message, /may or may not have been applied/);
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
    } finally {
      await store.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  function rawScan(pattern: string): AsyncIterable<string> {
    return (async function* () {
      let cursor = "0";
      do {
        const [next, keys] = await raw.scan(cursor, "MATCH", pattern, "COUNT", 500);
        cursor = next;
        yield* keys;
      } while (cursor !== "0");
    })();
  }
  function rawGet(key: string): Promise<string | null> {
    return raw.get(key);
  }
});

describe("redis store options", () => {
  const ok = { url: "redis://127.0.0.1:6379", keyPrefix: "p:" };
  for (const [what, options] of [
    ["a url that is not a URL", { ...ok, url: "127.0.0.1:6379" }],
    ["another protocol", { ...ok, url: "http://127.0.0.1:6379" }],
    ["a path that is not a database", { ...ok, url: "redis://127.0.0.1:6379/cache" }],
    ["a missing keyPrefix", { url: ok.url } as unknown as typeof ok],
    ["a zero command timeout", { ...ok, commandTimeoutMs: 0 }],
    ["a fractional connect timeout", { ...ok, connectTimeoutMs: 1.5 }],
    ["a password in the url and as an option", { ...ok, url: "redis://:secret@127.0.0.1", password: "other" }],
    ["a username without a password", { ...ok, username: "svc" }],
    ["tls false with rediss://", { ...ok, url: "rediss://127.0.0.1", tls: false }],
  ] as const) {
    test(`refuses ${what} with a ConfigError`, () => {
      assert.throws(() => createRedisStore(options), ConfigError);
    });
  }

  test("never repeats a password from the url in its messages", () => {
    assert.throws(() => createRedisStore({ ...ok, url: "redis://:hunter2@127.0.0.1:6379/x" }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    });
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}
