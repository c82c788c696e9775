import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMemoryStore } from "@meshloop/store";
import { Stage1Processor } from "../../src/service/stage-processors.ts";
import { CheckpointStore } from "../../src/service/checkpoint-store.ts";
import { RESOLUTION } from "../pipeline.ts";
import { shopTraces, toRecords } from "../span-stream.ts";

async function keysOf(store: ReturnType<typeof createMemoryStore>, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of store.keys(prefix)) keys.push(key);
  return keys.sort();
}

describe("CheckpointStore", () => {
  test("a checkpoint loads with exactly the parts it refers to; pruning keeps those and drops the rest", async () => {
    const store = createMemoryStore();
    const checkpoints = new CheckpointStore(store, "stage:topic");
    const epoch = await checkpoints.claim(0);
    const a = await checkpoints.savePart(0, epoch, "a", "AAA");
    const b = await checkpoints.savePart(0, epoch, "b", "BBB");
    await checkpoints.save(0, epoch, "1.1", { state: "s1", parts: new Map([["a", a], ["b", b]]) });
    const c = await checkpoints.savePart(0, epoch, "c", "CCC");
    await checkpoints.save(0, epoch, "1.2", { state: "s2", parts: new Map([["a", a], ["c", c]]) });

    const loaded = await checkpoints.load(0, "1.2");
    assert.equal(loaded?.state, "s2");
    assert.deepEqual([...(loaded?.parts ?? [])], [["a", "AAA"], ["c", "CCC"]]);

    await checkpoints.prune(0, epoch, "1.2", new Set([a, c]));
    assert.deepEqual(await keysOf(store, "stage:topic:0:part:"), [a, c].sort());
    assert.deepEqual(await keysOf(store, "stage:topic:0:state:"), ["stage:topic:0:state:1.2"]);
    assert.equal(await checkpoints.load(0, "1.1"), null);
  });

  test("an owner replaced after its last commit cannot prune what the next owner saved", async () => {
    const store = createMemoryStore();
    const checkpoints = new CheckpointStore(store, "stage:topic");
    const old = await checkpoints.claim(0);
    const a = await checkpoints.savePart(0, old, "a", "AAA");
    await checkpoints.save(0, old, `${old}.1`, { state: "s1", parts: new Map([["a", a]]) });
    const next = await checkpoints.claim(0);
    const b = await checkpoints.savePart(0, next, "b", "BBB");
    await checkpoints.save(0, next, `${next}.1`, { state: "s2", parts: new Map([["b", b]]) });
    // The old owner's prune after its (last) commit runs late.
    await checkpoints.prune(0, old, `${old}.1`, new Set([a]));
    assert.equal((await checkpoints.load(0, `${next}.1`))?.state, "s2", "the new owner's checkpoint and part survive");
    // The new owner's prune after its first commit removes what the old one left.
    await checkpoints.prune(0, next, `${next}.1`, new Set([b]));
    assert.equal(await checkpoints.load(0, `${old}.1`), null);
    assert.deepEqual(await keysOf(store, "stage:topic:0:part:"), [b]);
  });

  test("a checkpoint whose part is gone does not load (a wiped or half-wiped store), rather than load wrong state", async () => {
    const store = createMemoryStore();
    const checkpoints = new CheckpointStore(store, "stage:topic");
    const epoch = await checkpoints.claim(3);
    const a = await checkpoints.savePart(3, epoch, "a", "AAA");
    await checkpoints.save(3, epoch, "1.1", { state: "s", parts: new Map([["a", a]]) });
    await store.delete(a);
    assert.equal(await checkpoints.load(3, "1.1"), null);
  });

  test("a checkpoint saved before parts existed (a bare state string) still loads", async () => {
    const store = createMemoryStore();
    const checkpoints = new CheckpointStore(store, "stage:topic");
    await store.set("stage:topic:1:state:4.7", JSON.stringify({ version: 1, partition: 1 }));
    const loaded = await checkpoints.load(1, "4.7");
    assert.deepEqual(JSON.parse(loaded?.state ?? "null"), { version: 1, partition: 1 });
    assert.equal(loaded?.parts.size, 0);
  });

  test("an older owner can save neither parts nor state once a newer one claimed the partition", async () => {
    const store = createMemoryStore();
    const checkpoints = new CheckpointStore(store, "stage:topic");
    const old = await checkpoints.claim(0);
    await checkpoints.claim(0);
    await assert.rejects(checkpoints.savePart(0, old, "a", "zombie"), /fenc/i);
    await assert.rejects(checkpoints.save(0, old, "1.1", { state: "zombie", parts: new Map() }), /fenc/i);
  });
});

describe("stage 1 snapshots with dedup parts", () => {
  // Small generations, so that the run below seals several of them.
  const options = { resolution: RESOLUTION, dedup: { horizonMs: 600_000, maxEntries: 4_000, generations: 8 } };
  const { spans } = shopTraces({ seed: 13, traces: 600, spreadMs: 60_000 });
  const records = toRecords(spans, 1)[0]!;
  const fold = (processor: Stage1Processor, from: number, to: number) =>
    records.slice(from, to).flatMap((r, i) => processor.fold({ ...r, value: Buffer.from(r.value), offset: from + i, partition: 0, key: null, timestamp: r.timestampMs, headers: {} } as never, 1));

  test("a restored processor continues exactly as the original; sealed generations keep their part ids", () => {
    const factory = Stage1Processor.create(options, "partials");
    const live = factory.create(0, 1);
    const half = Math.floor(records.length / 2);
    fold(live, 0, half);
    const first = live.snapshot();
    assert.ok(first.parts.length >= 2, `several dedup generations (${first.parts.length})`);
    const restored = factory.restore(0, first.state, new Map(first.parts.map((part) => [part.id, part.encode()])));
    assert.deepEqual(fold(restored, half, records.length).map((o) => String(o.record.value)), fold(live, half, records.length).map((o) => String(o.record.value)));
    assert.deepEqual(restored.state.snapshot(), live.state.snapshot());

    // Only the generation still filling changes its id between two checkpoints.
    const later = live.snapshot();
    const unchanged = first.parts.filter((part) => later.parts.some((p) => p.id === part.id));
    assert.ok(unchanged.length >= 1, "sealed generations are named as before");
    for (const part of unchanged) assert.equal(later.parts.find((p) => p.id === part.id)!.encode(), part.encode());
  });

  test("restoring a state that names a part not given fails loudly", () => {
    const factory = Stage1Processor.create(options, "partials");
    const live = factory.create(0, 1);
    fold(live, 0, 10);
    const { state, parts } = live.snapshot();
    assert.ok(parts.length > 0);
    assert.throws(() => factory.restore(0, state, new Map()), /dedup part dedup\.\d+\.\d+ that was not stored/);
  });
});
