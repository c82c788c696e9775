import assert from "node:assert/strict";
import { test } from "node:test";
import {
  aggregateId,
  emptySketch,
  formatIssues,
  latencySketchSchema,
  partialAggregateSchema,
  progressId,
  progressMarkSchema,
  routeSeriesSchema,
  sketchGamma,
  windowAggregateSchema,
} from "../src/index.ts";
import { counters, partial } from "./fixtures.ts";

function issues(schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, value: unknown): string {
  const result = schema.safeParse(value);
  assert.equal(result.success, false, "expected a rejection");
  return formatIssues(result.error as never);
}

test("sketches default their accuracy and imply gamma", () => {
  const parsed = latencySketchSchema.parse({ indexes: [], counts: [], zeroCount: 0, count: 0, sum: 0, min: 0, max: 0 });
  assert.deepEqual(parsed, emptySketch());
  assert.ok(Math.abs(sketchGamma(0.01) - 1.0202020202) < 1e-9);
});

test("sketch bins are parallel, sorted and add up to count", () => {
  const sketch = { ...emptySketch(), indexes: [3, 5], counts: [1.5, 2], count: 3.5, sum: 10, min: 1, max: 4 };
  assert.ok(latencySketchSchema.safeParse(sketch).success);
  const rejects = (patch: object, message: RegExp) =>
    assert.match(issues(latencySketchSchema, { ...sketch, ...patch }), message);
  rejects({ counts: [1.5] }, /indexes \(2\) and counts \(1\) differ in length/);
  rejects({ indexes: [5, 3] }, /indexes\[1\]: indexes must be strictly increasing/);
  rejects({ count: 4 }, /count 4 is not zeroCount \+ sum of counts \(3\.5\)/);
});

test("a valid partial parses, with weighted (fractional) counts", () => {
  const p = partial();
  assert.equal(p.id, "partial:checkout:60000:10000:3");
  assert.deepEqual(partialAggregateSchema.parse(p), p);
  assert.equal(p.series[0]!.counters.requests, 10.5);
});

test("partials must carry their deterministic id, aligned windows and a partition in range", () => {
  const rejects = (value: object, message: RegExp) => assert.match(issues(partialAggregateSchema, value), message);
  rejects({ ...partial(), id: "x" }, /id: id must be partial:checkout:60000:10000:3, got x/);
  rejects(partial({ windowStartMs: 65_000 }), /windowStartMs 65000 is not aligned to windowMs 10000/);
  rejects(partial({ partition: 12 }), /partition 12 is not below sourcePartitions 12/);
});

test("the overflow series must be called other", () => {
  const overflow = { version: "v1", route: "other", overflow: true, counters: counters(1) };
  assert.ok(routeSeriesSchema.safeParse(overflow).success);
  const misnamed = { ...overflow, route: "/x" };
  assert.match(issues(routeSeriesSchema, misnamed), /route: the overflow series must have route "other"/);
});

test("progress marks carry their id", () => {
  const mark = {
    id: progressId("checkout", 4, 70_000),
    service: "checkout",
    partition: 4,
    sourcePartitions: 12,
    watermarkMs: 70_000,
  };
  assert.equal(mark.id, "progress:checkout:4:70000");
  assert.deepEqual(progressMarkSchema.parse(mark), mark);
  assert.match(issues(progressMarkSchema, { ...mark, watermarkMs: 1 }), /id must be progress:checkout:4:1/);
});

test("window aggregates: id with part, part in range, completeness consistent", () => {
  const { partition: _p, sourcePartitions: _s, watermarkMs: _w, revision: _r, ...fields } = partial();
  const aggregate = {
    ...fields,
    id: aggregateId("checkout", 60_000, 10_000, 0, 2),
    resources: [
      { instance: "checkout-1", version: "v1", cpuUtilization: 0.42, memoryUtilization: null, memoryBytes: 2.5e8 },
    ],
    completeness: { complete: false, missingPartitions: [7] },
    part: { index: 0, count: 2 },
  };
  assert.equal(aggregate.id, "aggregate:checkout:60000:10000:0/2");
  assert.deepEqual(windowAggregateSchema.parse(aggregate), aggregate);
  const rejects = (patch: object, message: RegExp) =>
    assert.match(issues(windowAggregateSchema, { ...aggregate, ...patch }), message);
  rejects({ completeness: { complete: true, missingPartitions: [7] } }, /complete but with missing partitions/);
  const thirdOfTwo = { id: aggregateId("checkout", 60_000, 10_000, 2, 2), part: { index: 2, count: 2 } };
  rejects(thirdOfTwo, /part index 2 is not below part count 2/);
});
