import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fnv1a32, saramaPartition, spanPartition } from "../src/index.ts";

// Produced by test/vectors/sarama_partition.go (Go's hash/fnv and sarama's arithmetic), not by this code.
interface Vector {
  key: string;
  fnv32a: number;
  int32: number;
  partitions: Record<string, number>;
}
const vectors = JSON.parse(readFileSync(new URL("vectors/sarama-partition.json", import.meta.url), "utf8")) as Vector[];

test("the vectors cover negative int32 hashes and trace ids", () => {
  assert.ok(vectors.length >= 20);
  assert.ok(vectors.filter((v) => v.int32 < 0 && /^[0-9a-f]{32}$/.test(v.key)).length >= 5);
});

test("fnv1a32 matches Go's hash/fnv New32a", () => {
  for (const v of vectors) assert.equal(fnv1a32(new TextEncoder().encode(v.key)), v.fnv32a, v.key);
});

test("saramaPartition matches sarama for every vector and partition count", () => {
  for (const v of vectors) {
    for (const [n, expected] of Object.entries(v.partitions)) {
      assert.equal(saramaPartition(v.key, Number(n)), expected, `${v.key} n=${n}`);
      assert.equal(saramaPartition(new TextEncoder().encode(v.key), Number(n)), expected, `${v.key} n=${n} (bytes)`);
    }
  }
});

test("spanPartition hashes the hex digits of the trace id like saramaPartition of its hex", () => {
  const traceIds = vectors.filter((v) => /^[0-9a-f]{32}$/.test(v.key));
  for (const v of traceIds) {
    const bytes = Uint8Array.from(Buffer.from(v.key, "hex"));
    for (const [n, expected] of Object.entries(v.partitions)) {
      assert.equal(spanPartition(bytes, Number(n)), expected, `${v.key} n=${n}`);
    }
  }
});

test("a partition is never -0 and stays in range", () => {
  for (const v of vectors) {
    const p = saramaPartition(v.key, 1);
    assert.ok(Object.is(p, 0), `${v.key} gives ${p}`);
  }
});

test("partition counts outside 1..2^31-1 are rejected", () => {
  assert.throws(() => saramaPartition("a", 0), /partitionCount must be an integer in 1\.\.2\^31-1, got 0/);
  assert.throws(() => spanPartition(new Uint8Array(16), 1.5), /got 1\.5/);
});
