import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "@meshloop/errors";
import { createMemoryBackend, createMemoryStore } from "../src/index.ts";
import type { StateStore } from "../src/index.ts";
import { collect, storeContract } from "./store-contract.ts";

// One keyspace per fixture with a clock the tests move; `connect` opens stores on the same keyspace, as a second
// process would on the same Redis.
storeContract("memory", async () => {
  let now = 1_700_000_000_000;
  const backend = createMemoryBackend({ now: () => now });
  const opened: StateStore[] = [];
  const connect = async (keyPrefix: string) => {
    const store = createMemoryStore({ keyPrefix, backend });
    opened.push(store);
    return store;
  };
  const store = await connect("test:");
  return {
    store,
    connect,
    advance: async (ms) => { now += ms; },
    cleanup: async () => { await Promise.all(opened.map((s) => s.close())); },
  };
});

describe("memory store options", () => {
  test("a clock of its own or a shared backend, not both", () => {
    assert.throws(() => createMemoryStore({ now: Date.now, backend: createMemoryBackend() }), ConfigError);
  });

  test("an injected clock drives TTLs of a store without a shared backend", async () => {
    let now = 0;
    const store = createMemoryStore({ now: () => now });
    await store.set("k", "v", { ttlMs: 10 });
    now = 9;
    assert.equal(await store.get("k"), "v");
    now = 10;
    assert.equal(await store.get("k"), null);
  });

  test("keys are stored under the keyPrefix in a shared backend", async () => {
    const backend = createMemoryBackend();
    const namespaced = createMemoryStore({ keyPrefix: "svc:", backend });
    const root = createMemoryStore({ backend });
    await namespaced.set("k", "v");
    assert.equal(await root.get("svc:k"), "v");
    assert.deepEqual(await collect(root.keys("svc:")), ["svc:k"]);
  });
});
