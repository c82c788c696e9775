// The soak's figures on made-up samples: a flat series, a leak, warm-up ignored, percentiles by nearest rank.
import assert from "node:assert/strict";
import { test } from "node:test";
import { heapUsedMb, percentile, procMemoryMb, rssTrend, slope } from "./soak-stats.ts";

const minute = 60_000;

test("the slope is the least-squares fit, null when x does not vary", () => {
  assert.equal(slope([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]), 2);
  assert.ok(Math.abs(slope([{ x: 0, y: 10 }, { x: 1, y: 12 }, { x: 2, y: 10 }, { x: 3, y: 12 }])! - 0.4) < 1e-9);
  assert.equal(slope([{ x: 1, y: 1 }, { x: 1, y: 2 }]), null);
  assert.equal(slope([{ x: 1, y: 1 }]), null);
});

test("the trend is taken over the second half: a warm-up climb does not count, a steady leak does", () => {
  // First 10 minutes climb 100 -> 200 MB, then flat with noise.
  const warm = Array.from({ length: 61 }, (_, i) => ({ atMs: i * 10_000, mb: i < 30 ? 100 + (100 * i) / 30 : 200 + (i % 2 === 0 ? 3 : -3) }));
  const flat = rssTrend(warm);
  assert.equal(flat.samples, 61);
  assert.equal(flat.peakMb, 203);
  assert.ok(Math.abs(flat.slopeMbPerMin!) < 0.5, `flat after warm-up: ${flat.slopeMbPerMin}`);
  assert.equal(flat.spanMin, 5);
  // 2 MB a minute all along.
  const leak = rssTrend(Array.from({ length: 60 }, (_, i) => ({ atMs: i * minute, mb: 100 + 2 * i })));
  assert.ok(Math.abs(leak.slopeMbPerMin! - 2) < 1e-9);
  assert.equal(leak.firstMb, 100);
  assert.equal(leak.lastMb, 218);
  assert.equal(rssTrend([]).slopeMbPerMin, null);
});

test("percentiles by nearest rank; none of nothing", () => {
  const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
  assert.equal(percentile(values, 50), 5);
  assert.equal(percentile(values, 99), 10);
  assert.equal(percentile(values, 0), 1);
  assert.equal(percentile([42], 99), 42);
  assert.equal(percentile([], 99), null);
});

test("this process's resident memory is read from /proc, and a missing process gives null", () => {
  const rss = procMemoryMb(process.pid);
  assert.ok(rss !== null && rss > 5, String(rss));
  assert.ok(procMemoryMb(process.pid, "VmHWM")! >= rss);
  assert.equal(procMemoryMb(undefined), null);
  assert.equal(procMemoryMb(2 ** 22 + 12345), null);
});

test("the heap in use is read from a service's metrics text, labelled or not; absent is null", () => {
  assert.equal(heapUsedMb("# HELP x\nnodejs_heap_size_used_bytes 52428800\nnodejs_heap_size_total_bytes 99\n"), 50);
  assert.equal(heapUsedMb('nodejs_heap_size_used_bytes{service="ingest"} 1.048576e+6\n'), 1);
  assert.equal(heapUsedMb("nodejs_heap_size_total_bytes 52428800\n"), null);
});
