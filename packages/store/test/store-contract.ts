// The behaviour every StateStore adapter must have. Run against the memory adapter and against the real Redis.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import { FencedError, MeshloopError, ValidationError } from "@meshloop/errors";
import { uniqueName } from "@meshloop/test-harness";
import { StoreError } from "../src/index.ts";
import type { StateStore } from "../src/index.ts";

export interface StoreFixture {
  store: StateStore;
  /** Another store on the same backend (the same Redis, the same memory keyspace): another process in real life. */
  connect(keyPrefix: string): Promise<StateStore>;
  /** Lets `ms` pass for TTLs: the memory clock jumps, for Redis the test really waits. */
  advance(ms: number): Promise<void>;
  /** Removes what the test wrote and closes every store it opened. */
  cleanup(): Promise<void>;
}

// Short real TTLs, so that the Redis run waits little; `pastTtl` leaves room for a slow machine.
const ttl = 250;
const pastTtl = 600;

/** All keys an iteration yields, sorted (adapters list them in no particular order). */
export async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const found: string[] = [];
  for await (const key of iterable) found.push(key);
  return found.sort();
}

function isStoreError(error: unknown): boolean {
  return error instanceof StoreError && !error.retriable;
}

export function storeContract(name: string, makeStore: () => Promise<StoreFixture>): void {
  describe(`store contract: ${name}`, () => {
    let fixture: StoreFixture;
    let store: StateStore;
    beforeEach(async () => {
      fixture = await makeStore();
      store = fixture.store;
    });
    afterEach(async () => {
      await fixture.cleanup();
    });

    describe("strings", () => {
      test("get returns null for a missing key and the last value set", async () => {
        assert.equal(await store.get("missing"), null);
        assert.equal(await store.set("k", "one"), true);
        assert.equal(await store.get("k"), "one");
        await store.set("k", "two");
        assert.equal(await store.get("k"), "two");
      });

      test("getMany answers in order, null for missing keys and for hashes", async () => {
        await store.set("a", "1");
        await store.set("c", "3");
        await store.hashSet("h", { f: "v" });
        assert.deepEqual(await store.getMany(["c", "b", "a", "h"]), ["3", null, "1", null]);
        assert.deepEqual(await store.getMany([]), []);
      });

      test("set with onlyIfAbsent writes only when the key is missing", async () => {
        assert.equal(await store.set("k", "first", { onlyIfAbsent: true }), true);
        assert.equal(await store.set("k", "second", { onlyIfAbsent: true }), false);
        assert.equal(await store.get("k"), "first");
        await store.hashSet("h", { f: "v" });
        assert.equal(await store.set("h", "x", { onlyIfAbsent: true }), false, "a key of any kind is present");
        await store.delete("k");
        assert.equal(await store.set("k", "third", { onlyIfAbsent: true }), true);
        assert.equal(await store.get("k"), "third");
      });

      test("a value set with ttlMs disappears after it", async () => {
        await store.set("short", "v", { ttlMs: ttl });
        await store.set("long", "v");
        assert.equal(await store.get("short"), "v");
        await fixture.advance(pastTtl);
        assert.equal(await store.get("short"), null);
        assert.equal(await store.get("long"), "v");
        assert.deepEqual(await collect(store.keys("")), ["long"]);
        assert.equal(await store.set("short", "again", { onlyIfAbsent: true }), true);
      });

      test("set without ttlMs removes an earlier TTL", async () => {
        await store.set("k", "v1", { ttlMs: ttl });
        await store.set("k", "v2");
        await fixture.advance(pastTtl);
        assert.equal(await store.get("k"), "v2");
      });

      test("delete removes keys of every kind and counts those that existed", async () => {
        await store.set("s", "v");
        await store.hashSet("h", { f: "v" });
        await store.sortedSetAdd("z", "m", 1);
        assert.equal(await store.delete("s", "h", "z", "missing"), 3);
        assert.deepEqual(await store.getMany(["s"]), [null]);
        assert.deepEqual(await store.hashGetAll("h"), {});
        assert.deepEqual(await store.sortedSetRangeByScore("z", -Infinity, Infinity), []);
        assert.equal(await store.delete("s"), 0);
        assert.equal(await store.delete(), 0);
      });
    });

    describe("counters", () => {
      test("increment starts from 0, adds by, and stores the integer", async () => {
        assert.equal(await store.increment("n"), 1);
        assert.equal(await store.increment("n"), 2);
        assert.equal(await store.increment("n", 10), 12);
        assert.equal(await store.increment("n", -20), -8);
        assert.equal(await store.get("n"), "-8");
        await store.set("m", "41");
        assert.equal(await store.increment("m"), 42);
      });

      test("increment keeps the key's TTL", async () => {
        await store.set("n", "1", { ttlMs: ttl });
        assert.equal(await store.increment("n"), 2);
        await fixture.advance(pastTtl);
        assert.equal(await store.get("n"), null);
      });

      test("increment refuses a value that is not an integer", async () => {
        for (const value of ["abc", "1.5", " 1", ""]) {
          await store.set("n", value);
          await assert.rejects(store.increment("n"), isStoreError, JSON.stringify(value));
          assert.equal(await store.get("n"), value);
        }
      });

      test("setMax keeps the highest value and returns it", async () => {
        assert.equal(await store.setMax("mark", 10), 10);
        assert.equal(await store.setMax("mark", 7), 10);
        assert.equal(await store.get("mark"), "10");
        assert.equal(await store.setMax("mark", 10.5), 10.5);
        assert.equal(await store.setMax("mark", 1_712_345_678_901), 1_712_345_678_901);
        assert.equal(await store.get("mark"), "1712345678901");
        assert.equal(await store.setMax("negative", -3.25), -3.25);
        assert.equal(await store.setMax("negative", -4), -3.25);
      });

      test("setMax never goes back under 50 concurrent writers on two connections", async () => {
        const twin = await fixture.connect(store.keyPrefix);
        const values = Array.from({ length: 50 }, () => Math.floor(Math.random() * 1_000_000));
        const results = await Promise.all(values.map((value, i) => (i % 2 === 0 ? store : twin).setMax("mark", value)));
        const max = Math.max(...values);
        assert.equal(await store.get("mark"), String(max));
        for (const [i, result] of results.entries()) assert.ok(result >= values[i]!, `result ${result} < own value ${values[i]}`);
        assert.ok(results.includes(max));
        assert.equal(await twin.setMax("mark", max - 1), max);
      });

      test("setMax keeps the key's TTL and refuses a value that is not a number", async () => {
        await store.set("mark", "5", { ttlMs: ttl });
        assert.equal(await store.setMax("mark", 6), 6);
        await fixture.advance(pastTtl);
        assert.equal(await store.get("mark"), null);
        await store.set("text", "not a number");
        await assert.rejects(store.setMax("text", 1), isStoreError);
        assert.equal(await store.get("text"), "not a number");
      });
    });

    describe("compareAndSet", () => {
      test("writes only over the expected value, null meaning a missing key", async () => {
        assert.equal(await store.compareAndSet("k", "v0", "v1"), false);
        assert.equal(await store.get("k"), null);
        assert.equal(await store.compareAndSet("k", null, "v1"), true);
        assert.equal(await store.compareAndSet("k", null, "v2"), false);
        assert.equal(await store.compareAndSet("k", "v0", "v2"), false);
        assert.equal(await store.get("k"), "v1");
        assert.equal(await store.compareAndSet("k", "v1", "v2"), true);
        assert.equal(await store.get("k"), "v2");
        assert.equal(await store.compareAndSet("k", "", "v3"), false, "an empty string is a value, not absence");
      });

      test("ttlMs applies to the written value", async () => {
        assert.equal(await store.compareAndSet("k", null, "v1", { ttlMs: ttl }), true);
        assert.equal(await store.get("k"), "v1");
        await fixture.advance(pastTtl);
        assert.equal(await store.get("k"), null);
      });

      test("exactly one of 20 concurrent writers from the same value wins", async () => {
        const twin = await fixture.connect(store.keyPrefix);
        await store.set("leader", "none");
        const outcomes = await Promise.all(
          Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : twin).compareAndSet("leader", "none", `w${i}`)),
        );
        const winners = outcomes.flatMap((won, i) => (won ? [i] : []));
        assert.equal(winners.length, 1, `winners: ${winners.join(", ")}`);
        assert.equal(await store.get("leader"), `w${winners[0]}`);
      });
    });

    describe("fencedSet", () => {
      test("writes under the newest epoch and raises the fence", async () => {
        await store.fencedSet("fence:p0", 1, "state:p0", "a");
        assert.equal(await store.get("state:p0"), "a");
        assert.equal(await store.get("fence:p0"), "1");
        await store.fencedSet("fence:p0", 1, "state:p0", "b");
        await store.fencedSet("fence:p0", 3, "state:p0", "c");
        assert.equal(await store.get("state:p0"), "c");
        assert.equal(await store.get("fence:p0"), "3");
      });

      test("a lower epoch after a higher one wrote is refused with a FencedError", async () => {
        await store.fencedSet("fence", 2, "state", "owner-2");
        await assert.rejects(store.fencedSet("fence", 1, "state", "zombie"), (error: unknown) => {
          assert.ok(error instanceof FencedError);
          assert.equal(error.retriable, false);
          assert.equal(error.context.currentEpoch, 2);
          assert.equal(error.context.key, "state");
          return true;
        });
        assert.equal(await store.get("state"), "owner-2");
        assert.equal(await store.get("fence"), "2");
      });

      test("a fence claimed with setMax refuses older owners before the new one writes", async () => {
        await store.fencedSet("fence", 4, "state", "old-owner");
        assert.equal(await store.setMax("fence", 5), 5);
        await assert.rejects(store.fencedSet("fence", 4, "state", "late"), FencedError);
        assert.equal(await store.get("state"), "old-owner");
      });

      test("of concurrent owners, the value of the highest epoch stays", async () => {
        const twin = await fixture.connect(store.keyPrefix);
        const epochs = Array.from({ length: 20 }, (_, i) => i + 1).sort(() => Math.random() - 0.5);
        const outcomes = await Promise.allSettled(
          epochs.map((epoch, i) => (i % 2 === 0 ? store : twin).fencedSet("fence", epoch, "state", `e${epoch}`)),
        );
        for (const outcome of outcomes) {
          if (outcome.status === "rejected") assert.ok(outcome.reason instanceof FencedError, String(outcome.reason));
        }
        assert.equal(await store.get("state"), "e20");
        assert.equal(await store.get("fence"), "20");
      });

      test("ttlMs applies to the value, not to the fence", async () => {
        await store.fencedSet("fence", 1, "state", "v", { ttlMs: ttl });
        await fixture.advance(pastTtl);
        assert.equal(await store.get("state"), null);
        assert.equal(await store.get("fence"), "1");
      });
    });

    describe("hashes", () => {
      test("hashSet adds and replaces fields and counts the new ones", async () => {
        assert.equal(await store.hashSet("callers", { a: "1", b: "2" }), 2);
        assert.equal(await store.hashSet("callers", { b: "20", c: "3" }), 1);
        assert.equal(await store.hashSet("callers", {}), 0);
        assert.equal(await store.hashGet("callers", "b"), "20");
        assert.equal(await store.hashGet("callers", "zz"), null);
        assert.equal(await store.hashGet("missing", "a"), null);
        assert.deepEqual(await store.hashGetAll("callers"), { a: "1", b: "20", c: "3" });
        assert.deepEqual(await store.hashGetAll("missing"), {});
      });

      test("field names such as __proto__ are plain fields", async () => {
        const fields = Object.fromEntries([["__proto__", "p"], ["constructor", "c"], ["toString", "t"]]) as Record<string, string>;
        assert.equal(await store.hashSet("h", fields), 3);
        assert.equal(await store.hashGet("h", "__proto__"), "p");
        assert.equal(await store.hashGet("h", "hasOwnProperty"), null);
        assert.deepEqual(await store.hashGetAll("h"), fields);
      });

      test("hashGetAll returns a copy", async () => {
        await store.hashSet("h", { a: "1" });
        const all = await store.hashGetAll("h");
        all.a = "changed";
        assert.equal(await store.hashGet("h", "a"), "1");
      });

      test("hashDelete counts removed fields and removes an emptied hash", async () => {
        await store.hashSet("h", { a: "1", b: "2" });
        assert.equal(await store.hashDelete("h", "a", "missing"), 1);
        assert.deepEqual(await store.hashGetAll("h"), { b: "2" });
        assert.equal(await store.hashDelete("h"), 0);
        assert.equal(await store.hashDelete("h", "b"), 1);
        assert.deepEqual(await collect(store.keys("")), []);
        assert.equal(await store.set("h", "now a string", { onlyIfAbsent: true }), true);
      });

      test("a hash expires as a whole", async () => {
        await store.hashSet("h", { a: "1" });
        assert.equal(await store.expire("h", ttl), true);
        assert.equal(await store.hashSet("h", { b: "2" }), 1, "hashSet keeps the TTL");
        await fixture.advance(pastTtl);
        assert.deepEqual(await store.hashGetAll("h"), {});
      });

      test("operations on a key of another kind fail with a non-retriable StoreError", async () => {
        await store.hashSet("h", { a: "1" });
        await store.set("s", "v");
        await assert.rejects(store.get("h"), isStoreError);
        await assert.rejects(store.increment("h"), isStoreError);
        await assert.rejects(store.setMax("h", 1), isStoreError);
        await assert.rejects(store.compareAndSet("h", null, "x"), isStoreError);
        await assert.rejects(store.hashSet("s", { a: "1" }), isStoreError);
        await assert.rejects(store.sortedSetAdd("s", "m", 1), isStoreError);
        await assert.rejects(store.sortedSetRangeByScore("h", 0, 1), isStoreError);
        assert.deepEqual(await store.hashGetAll("h"), { a: "1" });
      });
    });

    describe("expire", () => {
      test("gives an existing key a TTL and answers false for a missing one", async () => {
        assert.equal(await store.expire("missing", ttl), false);
        await store.set("k", "v");
        assert.equal(await store.expire("k", ttl), true);
        assert.equal(await store.get("k"), "v");
        await fixture.advance(pastTtl);
        assert.equal(await store.get("k"), null);
      });
    });

    describe("sorted sets", () => {
      test("range by score is inclusive, ordered by score, and limited", async () => {
        assert.equal(await store.sortedSetAdd("edges", "d", 3), true);
        await store.sortedSetAdd("edges", "c", 2);
        await store.sortedSetAdd("edges", "a", 1);
        await store.sortedSetAdd("edges", "b", 2);
        const all = [{ member: "a", score: 1 }, { member: "b", score: 2 }, { member: "c", score: 2 }, { member: "d", score: 3 }];
        assert.deepEqual(await store.sortedSetRangeByScore("edges", -Infinity, Infinity), all);
        assert.deepEqual(await store.sortedSetRangeByScore("edges", 2, 2), all.slice(1, 3));
        assert.deepEqual(await store.sortedSetRangeByScore("edges", 1.5, Infinity, { limit: 2 }), all.slice(1, 3));
        assert.deepEqual(await store.sortedSetRangeByScore("edges", -Infinity, Infinity, { limit: 0 }), []);
        assert.deepEqual(await store.sortedSetRangeByScore("edges", 3, 1), []);
        assert.deepEqual(await store.sortedSetRangeByScore("missing", -Infinity, Infinity), []);
      });

      test("adding an existing member moves it and answers false", async () => {
        await store.sortedSetAdd("edges", "a->b", 100);
        assert.equal(await store.sortedSetAdd("edges", "a->b", 50.5), false);
        assert.deepEqual(await store.sortedSetRangeByScore("edges", -Infinity, Infinity), [{ member: "a->b", score: 50.5 }]);
      });

      test("scores round-trip exactly and equal scores order members by their bytes", async () => {
        const scores = [0.1, 1_712_345_678_901.125, -2.5e-7, 2 ** 53];
        for (const [i, score] of scores.entries()) await store.sortedSetAdd("exact", `m${i}`, score);
        const read = await store.sortedSetRangeByScore("exact", -Infinity, Infinity);
        assert.deepEqual(read.map((entry) => entry.score), [...scores].sort((a, b) => a - b));
        const members = ["b", "a", "B", "é", "z", "\u{1F600}", "\uFFFD", "ab", ""];
        for (const member of members) await store.sortedSetAdd("ties", member, 7);
        const expected = [...members].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
        assert.deepEqual((await store.sortedSetRangeByScore("ties", 7, 7)).map((entry) => entry.member), expected);
      });

      test("remove and remove by score count what they removed; an emptied set disappears", async () => {
        for (const [member, score] of [["a", 10], ["b", 20], ["c", 30], ["d", 40]] as const) {
          await store.sortedSetAdd("edges", member, score);
        }
        assert.equal(await store.sortedSetRemove("edges", "a", "missing"), 1);
        assert.equal(await store.sortedSetRemove("edges"), 0);
        assert.equal(await store.sortedSetRemoveRangeByScore("edges", -Infinity, 30), 2);
        assert.deepEqual(await store.sortedSetRangeByScore("edges", -Infinity, Infinity), [{ member: "d", score: 40 }]);
        assert.equal(await store.sortedSetRemoveRangeByScore("edges", 40, 40), 1);
        assert.deepEqual(await collect(store.keys("")), []);
        assert.equal(await store.sortedSetRemove("edges", "d"), 0);
      });
    });

    describe("keys", () => {
      test("lists keys of every kind under a prefix, without the store's keyPrefix", async () => {
        await store.set("edges:a", "1");
        await store.hashSet("edges:b", { f: "v" });
        await store.sortedSetAdd("edges:c", "m", 1);
        await store.set("nodes:x", "1");
        assert.deepEqual(await collect(store.keys("edges:")), ["edges:a", "edges:b", "edges:c"]);
        assert.deepEqual(await collect(store.keys("")), ["edges:a", "edges:b", "edges:c", "nodes:x"]);
        assert.deepEqual(await collect(store.keys("none:")), []);
      });

      test("a prefix with glob characters matches literally", async () => {
        for (const key of ["a*b", "axxb", "a?c", "abc", "a[1]", "a1]", "a\\d", "ad"]) await store.set(key, "v");
        assert.deepEqual(await collect(store.keys("a*")), ["a*b"]);
        assert.deepEqual(await collect(store.keys("a?")), ["a?c"]);
        assert.deepEqual(await collect(store.keys("a[")), ["a[1]"]);
        assert.deepEqual(await collect(store.keys("a\\")), ["a\\d"]);
      });

      test("lists each of many keys once", async () => {
        await Promise.all(Array.from({ length: 1200 }, (_, i) => store.set(`many:${i}`, "v")));
        const found = await collect(store.keys("many:"));
        assert.equal(found.length, 1200);
        assert.equal(new Set(found).size, 1200);
      });

      test("stores under different keyPrefixes do not see each other's keys", async () => {
        const other = await fixture.connect(`${uniqueName("store-other")}:`);
        await store.set("shared", "mine");
        await store.set("only-mine", "v");
        await other.set("shared", "theirs");
        await other.hashSet("only-theirs", { f: "v" });
        assert.deepEqual(await collect(store.keys("")), ["only-mine", "shared"]);
        assert.deepEqual(await collect(other.keys("")), ["only-theirs", "shared"]);
        assert.equal(await store.get("shared"), "mine");
        assert.equal(await other.get("shared"), "theirs");
        assert.equal(await other.delete("shared", "only-mine"), 1);
        assert.equal(await store.get("shared"), "mine");
      });
    });

    describe("arguments and lifecycle", () => {
      test("invalid arguments fail with a ValidationError before anything is written", async () => {
        await assert.rejects(store.set("", "v"), ValidationError);
        await assert.rejects(store.set("k", "v", { ttlMs: 0 }), ValidationError);
        await assert.rejects(store.set("k", "v", { ttlMs: 1.5 }), ValidationError);
        await assert.rejects(store.expire("k", -1), ValidationError);
        await assert.rejects(store.increment("k", 0.5), ValidationError);
        await assert.rejects(store.setMax("k", Number.NaN), ValidationError);
        await assert.rejects(store.setMax("k", Infinity), ValidationError);
        await assert.rejects(store.fencedSet("fence", -1, "k", "v"), ValidationError);
        await assert.rejects(store.fencedSet("fence", 1.5, "k", "v"), ValidationError);
        await assert.rejects(store.sortedSetAdd("z", "m", Number.NaN), ValidationError);
        await assert.rejects(store.sortedSetRangeByScore("z", Number.NaN, 1), ValidationError);
        await assert.rejects(store.sortedSetRangeByScore("z", 0, 1, { limit: -1 }), ValidationError);
        await assert.rejects(store.getMany(["a", ""]), ValidationError);
        assert.deepEqual(await collect(store.keys("")), []);
      });

      test("ping answers while open; after close every operation fails for good", async () => {
        await store.ping();
        await store.set("k", "v");
        await store.close();
        await store.close();
        const closed = (error: unknown) => error instanceof MeshloopError && !error.retriable && /closed/.test(error.message);
        await assert.rejects(store.get("k"), closed);
        await assert.rejects(store.set("k", "v"), closed);
        await assert.rejects(store.ping(), closed);
        await assert.rejects(collect(store.keys("")), closed);
      });
    });
  });
}
