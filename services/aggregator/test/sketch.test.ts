import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { latencySketchSchema } from "@meshloop/contracts";
import { ValidationError } from "@meshloop/errors";
import fc from "fast-check";
import { CollapsingLowestDenseStore, DDSketch, LogMapping } from "../src/index.ts";
import { exactQuantile } from "./pipeline.ts";

const BIG = { relativeAccuracy: 0.01, maxBins: 4096 };
// Latencies: sub-millisecond to minutes, as a span stream has them (positive, finite).
const latency = fc.double({ min: 1e-3, max: 3e5, noNaN: true, noDefaultInfinity: true });
const quantile = fc.double({ min: 0, max: 1, noNaN: true });

function sketchOf(values: readonly number[], options = BIG, weight = 1): DDSketch {
  const s = new DDSketch(options);
  for (const v of values) s.add(v, weight);
  return s;
}

function withinAccuracy(estimate: number, exact: number, accuracy: number): boolean {
  // A value exactly on a bin boundary may land one bin off through floating point; allow that last ulp-scale slack.
  return Math.abs(estimate - exact) <= accuracy * exact * (1 + 1e-9) + 1e-12;
}

describe("DDSketch", () => {
  test("every quantile is within the relative accuracy of the exact one", () => {
    fc.assert(
      fc.property(fc.array(latency, { minLength: 1, maxLength: 400 }), quantile, fc.constantFrom(0.01, 0.02, 0.05), (values, q, a) => {
        const s = sketchOf(values, { relativeAccuracy: a, maxBins: 4096 });
        const exact = exactQuantile(values.map((v) => [v, 1]), q);
        assert.ok(withinAccuracy(s.quantile(q), exact, a), `q=${q}: ${s.quantile(q)} vs ${exact}`);
      }),
      { numRuns: 300 },
    );
  });

  test("weighted insertions are repeated insertions", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(latency, fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 100 }), quantile, (pairs, q) => {
        const weighted = new DDSketch(BIG);
        const repeated = new DDSketch(BIG);
        for (const [v, w] of pairs) {
          weighted.add(v, w);
          for (let i = 0; i < w; i++) repeated.add(v);
        }
        const [w, r] = [weighted.toWire(), repeated.toWire()];
        assert.deepEqual({ ...w, sum: 0 }, { ...r, sum: 0 });
        assert.ok(Math.abs(w.sum - r.sum) <= 1e-9 * r.sum); // v * w and v + v round differently
        assert.equal(weighted.quantile(q), repeated.quantile(q));
        const exact = exactQuantile(pairs, q);
        assert.ok(withinAccuracy(weighted.quantile(q), exact, 0.01));
      }),
      { numRuns: 200 },
    );
  });

  test("merge(a, b) is the sketch of the concatenated data, also when the bin bound collapses", () => {
    fc.assert(
      fc.property(
        fc.array(latency, { maxLength: 300 }),
        fc.array(latency, { maxLength: 300 }),
        fc.constantFrom(16, 64, 320, 4096),
        (a, b, maxBins) => {
          const options = { relativeAccuracy: 0.01, maxBins };
          const merged = sketchOf(a, options);
          merged.merge(sketchOf(b, options));
          const whole = sketchOf([...a, ...b], options);
          const mw = merged.toWire();
          const ww = whole.toWire();
          assert.deepEqual(mw.indexes, ww.indexes);
          assert.deepEqual(mw.counts, ww.counts);
          assert.equal(mw.count, ww.count);
          assert.equal(mw.min, ww.min);
          assert.equal(mw.max, ww.max);
          assert.ok(Math.abs(mw.sum - ww.sum) <= 1e-9 * Math.max(1, ww.sum));
          // And merging in the other order gives the same bins.
          const reversed = sketchOf(b, options);
          reversed.merge(sketchOf(a, options));
          assert.deepEqual(reversed.toWire().counts, mw.counts);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("merging float-weighted sketches adds up to the weights, within float rounding", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(latency, fc.double({ min: 1, max: 1000, noNaN: true })), { maxLength: 200 }), fc.nat(), (pairs, cut) => {
        const split = pairs.length === 0 ? 0 : cut % pairs.length;
        const left = new DDSketch(BIG);
        const right = new DDSketch(BIG);
        const whole = new DDSketch(BIG);
        pairs.forEach(([v, w], i) => {
          (i < split ? left : right).add(v, w);
          whole.add(v, w);
        });
        left.merge(right);
        const total = pairs.reduce((n, [, w]) => n + w, 0);
        const wire = left.toWire();
        latencySketchSchema.parse(wire);
        assert.ok(Math.abs(wire.count - total) <= 1e-9 * Math.max(1, total));
        assert.deepEqual(wire.indexes, whole.toWire().indexes);
      }),
      { numRuns: 200 },
    );
  });

  test("the wire form is the contract's and restores the same sketch", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(latency, fc.constant(0)), { maxLength: 300 }), fc.constantFrom(32, 320), quantile, (values, maxBins, q) => {
        const s = sketchOf(values, { relativeAccuracy: 0.01, maxBins });
        const wire = latencySketchSchema.parse(JSON.parse(JSON.stringify(s.toWire())));
        const back = DDSketch.fromWire(wire, maxBins);
        assert.deepEqual(back.toWire(), s.toWire());
        if (values.length > 0) assert.equal(back.quantile(q), s.quantile(q));
        // Adding to the restored sketch behaves as adding to the original.
        back.add(1e6);
        s.add(1e6);
        assert.deepEqual(back.toWire(), s.toWire());
      }),
      { numRuns: 200 },
    );
  });

  test("the bin bound holds and collapses the lowest bins, keeping the high quantiles accurate", () => {
    fc.assert(
      fc.property(fc.array(latency, { minLength: 50, maxLength: 500 }), fc.integer({ min: 8, max: 200 }), (values, maxBins) => {
        const s = sketchOf(values, { relativeAccuracy: 0.01, maxBins });
        assert.ok(s.store.binCount <= maxBins, `${s.store.binCount} bins > ${maxBins}`);
        assert.ok(s.store.capacity <= maxBins, `${s.store.capacity} allocated > ${maxBins}`);
        // Values within the kept range (the top maxBins bins) keep their accuracy: so does p99 when it is in range.
        const mapping = new LogMapping(0.01);
        const top = mapping.index(Math.max(...values));
        const p99 = exactQuantile(values.map((v) => [v, 1]), 0.99);
        if (mapping.index(p99) > top - maxBins + 1) assert.ok(withinAccuracy(s.quantile(0.99), p99, 0.01));
        // Nothing is lost: the collapsed counts are still counted.
        assert.equal(s.toWire().count, values.length);
      }),
      { numRuns: 300 },
    );
  });

  test("zero and negative durations count in zeroCount; bad input is ignored", () => {
    const s = new DDSketch();
    s.add(0);
    s.add(-3); // a clock that went backwards: clamped to 0
    s.add(Number.NaN);
    s.add(5, 0);
    s.add(5, -1);
    s.add(10);
    const w = s.toWire();
    assert.equal(w.zeroCount, 2);
    assert.equal(w.count, 3);
    assert.equal(w.min, 0);
    assert.equal(w.max, 10);
    // Ranks 0 and 1 of [0, 0, 10] are zeros; rank 2 (q = 1) is the 10.
    assert.equal(s.quantile(0.99), 0);
    assert.equal(s.quantile(1), 10);
  });

  test("an empty sketch has the contract's empty form and no quantiles", () => {
    const s = new DDSketch();
    assert.deepEqual(s.toWire(), { relativeAccuracy: 0.01, indexes: [], counts: [], zeroCount: 0, count: 0, sum: 0, min: 0, max: 0 });
    assert.ok(Number.isNaN(s.quantile(0.5)));
    const other = sketchOf([1, 2, 3]);
    other.merge(s);
    assert.equal(other.count, 3);
  });

  test("sketches of different accuracies do not merge", () => {
    const a = new DDSketch({ relativeAccuracy: 0.01, maxBins: 100 });
    const b = new DDSketch({ relativeAccuracy: 0.02, maxBins: 100 });
    b.add(3);
    assert.throws(() => a.merge(b), ValidationError);
    assert.throws(() => a.addWire(b.toWire()), ValidationError);
  });

  test("the store grows its window both ways and keeps its counts", () => {
    const store = new CollapsingLowestDenseStore(1000);
    const seen = new Map<number, number>();
    const rng = fc.sample(fc.integer({ min: -400, max: 400 }), { numRuns: 2000, seed: 3 });
    for (const i of rng) {
      store.add(i, 1);
      seen.set(i, (seen.get(i) ?? 0) + 1);
    }
    const got = new Map<number, number>();
    store.forEach((i, c) => got.set(i, c));
    assert.deepEqual(new Map([...got].sort((x, y) => x[0] - y[0])), new Map([...seen].sort((x, y) => x[0] - y[0])));
  });
});
