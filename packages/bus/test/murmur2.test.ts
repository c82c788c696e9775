import assert from "node:assert/strict";
import { test } from "node:test";
import { murmur2, murmur2Partition } from "../src/index.ts";

// The vectors of Kafka's own UtilsTest.testMurmur2 (the Java client), so keys land where Java producers put them.
const vectors: Array<[string | number[], number]> = [
  ["21", -973932308],
  ["foobar", -790332482],
  ["a-little-bit-long-string", -985981536],
  ["a-little-bit-longer-string", -1486304829],
  ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  [[97, 98, 99], 479470107],
];

test("murmur2 matches the Java client's test vectors", () => {
  for (const [input, expected] of vectors) {
    const bytes = typeof input === "string" ? Buffer.from(input) : Buffer.from(input);
    assert.equal(murmur2(bytes), expected, `murmur2(${JSON.stringify(input)})`);
  }
});

test("partitions are the positive hash modulo the count", () => {
  assert.equal(murmur2Partition(Buffer.from("21"), 7), (-973932308 & 0x7fffffff) % 7);
  for (let i = 0; i < 1000; i++) {
    const p = murmur2Partition(Buffer.from(`key-${i}`), 12);
    assert.ok(p >= 0 && p < 12);
  }
});
