import assert from "node:assert/strict";
import { test } from "node:test";
import { latencySketchSchema, sketchGamma } from "@meshloop/contracts";
import type { LatencySketch } from "@meshloop/contracts";
import {
  compareLatency,
  countAbove,
  DEFAULT_RATIO_GRID,
  exceedances,
  mergedQuantile,
  mergeSketches,
  minCountFor,
  newSplitTest,
  sketchIndex,
  sketchQuantile,
  splitProbability,
  splitTestVerdict,
  toleranceShift,
  updateSplitTest,
} from "../src/index.ts";
import type { SplitTestConfig } from "../src/index.ts";
import { binomial, lognormalLatencies, rng, sketchOf } from "./support/aggregates.ts";

function exactQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

test("sketch quantiles are within the relative accuracy of the exact ones, and sketches merge by adding", () => {
  const random = rng(11);
  const a = lognormalLatencies(random, 4000, 30, 0.8);
  const b = lognormalLatencies(random, 1000, 120, 0.3);
  const merged = mergeSketches([sketchOf(a), sketchOf(b)]);
  latencySketchSchema.parse(merged);
  const whole = sketchOf([...a, ...b]);
  assert.deepEqual(merged.indexes, whole.indexes);
  assert.deepEqual(merged.counts, whole.counts);
  assert.equal(merged.count, whole.count);
  assert.equal(merged.max, whole.max);
  for (const q of [0.01, 0.5, 0.9, 0.99, 0.999]) {
    const exact = exactQuantile([...a, ...b], q);
    const estimate = sketchQuantile(merged, q)!;
    assert.ok(Math.abs(estimate - exact) / exact <= 0.0101, `q=${q}: ${estimate} vs ${exact}`);
  }
  assert.equal(sketchQuantile(sketchOf([]), 0.5), null);
});

test("mergedQuantile is the merged sketch's quantile to the last bit, without merging", () => {
  const random = rng(29);
  // Sampling weights make counts fractional, so the order in which bins are added shows in the last bits.
  const weighted = (sketch: LatencySketch, weight: number): LatencySketch => ({
    ...sketch,
    counts: sketch.counts.map((c) => c * weight),
    zeroCount: sketch.zeroCount * weight,
    count: sketch.count * weight,
    sum: sketch.sum * weight,
  });
  let compared = 0;
  for (let round = 0; round < 200; round++) {
    const sketches = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
      const size = random() < 0.2 ? 0 : Math.floor(random() * 400);
      const values = lognormalLatencies(random, size, 5 + random() * 200, 0.2 + random());
      // Some requests faster than the sketch resolves land in the zero bucket.
      for (let i = 0; i < size / 20; i++) values.push(0);
      return weighted(sketchOf(values), 1 + random() * 9.37);
    });
    for (const q of [0, 0.01, 0.5, 0.9, 0.99, 1]) {
      assert.equal(mergedQuantile(sketches, q), sketchQuantile(mergeSketches(sketches), q), `round ${round}, q=${q}`);
      compared++;
    }
  }
  assert.equal(compared, 1200);
  assert.equal(mergedQuantile([], 0.5), null);
  assert.equal(mergedQuantile([sketchOf([]), sketchOf([])], 0.5), null);
  assert.throws(() => mergedQuantile([sketchOf([1, 2]), sketchOf([3], 0.02)], 0.5), /relative accuracy/);
});

test("counts above a bin boundary are exact", () => {
  const random = rng(5);
  const values = lognormalLatencies(random, 3000, 50, 0.6);
  const sketch = sketchOf(values);
  const gamma = sketchGamma(sketch.relativeAccuracy);
  for (const boundary of [150, 190, 200, 230, 260]) {
    const above = values.filter((v) => v > gamma ** boundary).length;
    assert.equal(countAbove(sketch, boundary), above);
  }
  // A value exactly on a boundary belongs to the bin below it: (gamma^(i-1), gamma^i].
  assert.equal(sketchIndex(gamma ** 200, gamma), 200);
});

test("latency comparison: within tolerance passes, beyond fails, too few requests is insufficient", () => {
  const random = rng(3);
  const baseline = sketchOf(lognormalLatencies(random, 5000, 40, 0.5));
  const same = sketchOf(lognormalLatencies(random, 2000, 40, 0.5));
  const slower = sketchOf(lognormalLatencies(random, 2000, 60, 0.5));
  const few = sketchOf(lognormalLatencies(random, 80, 40, 0.5));
  const quantiles = [
    { quantile: 0.99, tolerance: 0.25 },
    { quantile: 0.5, tolerance: 0.15 },
  ];
  assert.deepEqual(compareLatency(same, baseline, quantiles, 100).map((c) => c.verdict), ["pass", "pass"]);
  const worse = compareLatency(slower, baseline, quantiles, 100);
  assert.deepEqual(worse.map((c) => c.verdict), ["fail", "fail"]);
  assert.ok(worse[1]!.ratio! > 1.4 && worse[1]!.ratio! < 1.6);
  assert.deepEqual(compareLatency(few, baseline, quantiles, 100).map((c) => c.verdict), ["insufficient", "insufficient"]);
  // p99 needs 5 values beyond it: 500 requests; p50 the floor.
  assert.equal(minCountFor(0.99, 100), 500);
  assert.equal(minCountFor(0.5, 100), 100);
});

test("exceedances: the canary's threshold is at least (1 + tolerance) x the baseline's, on bin boundaries", () => {
  const shift = toleranceShift(0.25, 0.01);
  const gamma = sketchGamma(0.01);
  assert.ok(gamma ** shift >= 1.25 && gamma ** (shift - 1) < 1.25);
  const random = rng(8);
  const canary = sketchOf(lognormalLatencies(random, 1000, 40, 0.5));
  const baseline = sketchOf(lognormalLatencies(random, 1000, 40, 0.5));
  const ex = exceedances(canary, baseline, 200, 0.25)!;
  assert.ok(ex.canaryThresholdMs / ex.baselineThresholdMs >= 1.25);
  assert.equal(ex.baselineSlow, countAbove(baseline, 200));
  assert.equal(ex.canarySlow, countAbove(canary, 200 + shift));
  assert.equal(exceedances(canary, sketchOf([10, 20], 0.02), 200, 0.25), null, "different binning cannot be compared");
});

test("splitProbability is the canary's share at ratio 1 and grows with the ratio", () => {
  assert.equal(splitProbability(1, 0.05), 0.05);
  assert.ok(Math.abs(splitProbability(10, 0.05) - 0.5 / 1.45) < 1e-12);
  assert.ok(splitProbability(2, 0.3) > splitProbability(1.5, 0.3));
});

/**
 * The sequential test's promise, checked by simulation: under H0 (equal error rates), looking after every one of 60
 * windows with the traffic share changing in steps, the share of sequences ever rejected stays under alpha. A fixed
 * sample z-test applied at every look, for contrast, rejects far more often than its nominal level.
 */
test("the mixture SPRT keeps its false-positive rate under repeated looks; a z-test at every look does not", () => {
  const alpha = 0.05;
  const config: SplitTestConfig = { nullRatio: 1, grid: DEFAULT_RATIO_GRID };
  const random = rng(42);
  const runs = 2000;
  let sequential = 0;
  let naive = 0;
  for (let run = 0; run < runs; run++) {
    let state = newSplitTest(config);
    let rejectedNaive = false;
    let ec = 0;
    let nc = 0;
    let eb = 0;
    let nb = 0;
    for (let w = 0; w < 60; w++) {
      const share = [0.05, 0.1, 0.25, 0.5][Math.floor(w / 15)]!;
      const n = 1000;
      const p = 0.01;
      const canaryN = binomial(random, n, share);
      const obs = { canaryTrials: canaryN, canaryEvents: binomial(random, canaryN, p), baselineTrials: n - canaryN, baselineEvents: binomial(random, n - canaryN, p) };
      state = updateSplitTest(state, config, obs);
      ec += obs.canaryEvents;
      nc += obs.canaryTrials;
      eb += obs.baselineEvents;
      nb += obs.baselineTrials;
      const pooled = (ec + eb) / (nc + nb);
      const z = (ec / nc - eb / nb) / Math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nb) || 1);
      if (z > 1.645) rejectedNaive = true;
    }
    if (splitTestVerdict(state, alpha).rejected) sequential++;
    if (rejectedNaive) naive++;
  }
  const rate = sequential / runs;
  console.log(`sequential test false-positive rate ${(rate * 100).toFixed(2)}% (alpha ${alpha * 100}%), z-test at every look ${((naive / runs) * 100).toFixed(1)}%`);
  assert.ok(rate < alpha, `sequential false-positive rate ${rate}`);
  assert.ok(naive / runs > 2 * alpha, "repeated fixed-sample tests inflate false positives");
});

test("the mixture SPRT rejects a ten times worse canary within a few windows, and never un-rejects", () => {
  const config: SplitTestConfig = { nullRatio: 1.25, grid: DEFAULT_RATIO_GRID };
  const random = rng(9);
  let state = newSplitTest(config);
  let rejectedAt: number | null = null;
  for (let w = 0; w < 20; w++) {
    const obs = { canaryTrials: 50, canaryEvents: binomial(random, 50, 0.05), baselineTrials: 950, baselineEvents: binomial(random, 950, 0.005) };
    state = updateSplitTest(state, config, obs);
    if (rejectedAt === null && splitTestVerdict(state, 0.02 / 3).rejected) rejectedAt = w;
  }
  assert.ok(rejectedAt !== null && rejectedAt <= 5, `rejected at window ${rejectedAt}`);
  // A run of clean windows lowers the e-value but the verdict is about the running maximum.
  for (let w = 0; w < 50; w++) state = updateSplitTest(state, config, { canaryTrials: 50, canaryEvents: 0, baselineTrials: 950, baselineEvents: 5 });
  assert.equal(splitTestVerdict(state, 0.02 / 3).rejected, true);
  assert.ok(splitTestVerdict(state, 0.02 / 3).pValue < 0.02 / 3);
});

test("windows without traffic on either side, and windows without events, carry no evidence", () => {
  const config: SplitTestConfig = { nullRatio: 1, grid: DEFAULT_RATIO_GRID };
  const start = newSplitTest(config);
  assert.equal(updateSplitTest(start, config, { canaryTrials: 0, canaryEvents: 0, baselineTrials: 100, baselineEvents: 3 }), start);
  const quiet = updateSplitTest(start, config, { canaryTrials: 50, canaryEvents: 0, baselineTrials: 950, baselineEvents: 0 });
  assert.equal(splitTestVerdict(quiet, 0.05).eValue, 1);
  assert.equal(quiet.windows, 1);
});
