import { ValidationError } from "@meshloop/errors";
import { sketchGamma } from "@meshloop/contracts";
import type { LatencySketch } from "@meshloop/contracts";

/**
 * Reading the contracts' DDSketch wire form: bin `i` counts values in (gamma^(i-1), gamma^i]. Counts above a bin
 * boundary are exact (every value is on a known side of every boundary); quantiles are within the sketch's relative
 * accuracy. The sequential latency test relies on the first property, the evidence on the second.
 */

/** The bin holding `valueMs`: the smallest i with valueMs <= gamma^i. */
export function sketchIndex(valueMs: number, gamma: number): number {
  // The epsilon keeps an exact boundary (gamma^i computed back from i) in bin i despite rounding in the logarithm.
  return Math.ceil(Math.log(valueMs) / Math.log(gamma) - 1e-9);
}

/** The value a bin reports: the point of (gamma^(i-1), gamma^i] with the same relative error to both ends. */
export function binValue(index: number, gamma: number): number {
  return (2 * gamma ** index) / (gamma + 1);
}

/**
 * The q-quantile (0 <= q <= 1) in ms, or null for an empty sketch. Ranks follow DDSketch (rank q * (count - 1), the
 * first bin whose cumulative count passes it); results are clamped to the exact min and max the sketch carries.
 */
export function sketchQuantile(sketch: LatencySketch, q: number): number | null {
  if (sketch.count <= 0) return null;
  const rank = q * Math.max(0, sketch.count - 1);
  if (rank < sketch.zeroCount) return sketch.min;
  const index = quantileIndex(sketch, q);
  if (index === null) return sketch.max;
  const value = binValue(index, sketchGamma(sketch.relativeAccuracy));
  return Math.min(sketch.max, Math.max(sketch.min, value));
}

/** The bin holding the q-quantile, or null when it falls in the zero bucket or the sketch is empty. */
export function quantileIndex(sketch: LatencySketch, q: number): number | null {
  if (sketch.count <= 0) return null;
  const rank = q * Math.max(0, sketch.count - 1);
  let cumulative = sketch.zeroCount;
  if (rank < cumulative) return null;
  const { indexes, counts } = sketch;
  for (let i = 0; i < indexes.length; i++) {
    cumulative += counts[i]!;
    if (cumulative > rank) return indexes[i]!;
  }
  // Float sums of weighted counts can leave the last bin a hair short of the rank.
  return indexes.length > 0 ? indexes[indexes.length - 1]! : null;
}

/** How many values are above gamma^boundaryIndex: exactly the counts of the bins with a higher index. */
export function countAbove(sketch: LatencySketch, boundaryIndex: number): number {
  const { indexes, counts } = sketch;
  let total = 0;
  // Bins are sorted; walk from the top, where the few slow values are.
  for (let i = indexes.length - 1; i >= 0 && indexes[i]! > boundaryIndex; i--) total += counts[i]!;
  return total;
}

/** The sum of sketches of the same accuracy; an empty list gives an empty sketch of the default accuracy. */
export function mergeSketches(sketches: readonly LatencySketch[]): LatencySketch {
  let merged: LatencySketch | null = null;
  for (const sketch of sketches) merged = merged === null ? sketch : mergeTwo(merged, sketch);
  return merged ?? { relativeAccuracy: 0.01, indexes: [], counts: [], zeroCount: 0, count: 0, sum: 0, min: 0, max: 0 };
}

/**
 * a + b; both must share their relative accuracy, or their bins mean different ranges. Sketches are never mutated
 * here or anywhere in this core, so merging with an empty one returns the other as it is.
 */
export function mergeTwo(a: LatencySketch, b: LatencySketch): LatencySketch {
  // An empty side carries no bins, so its accuracy does not matter.
  if (b.count <= 0) return a;
  if (a.count <= 0) return b;
  if (a.relativeAccuracy !== b.relativeAccuracy) {
    throw new ValidationError(
      `cannot merge latency sketches of relative accuracy ${a.relativeAccuracy} and ${b.relativeAccuracy}`,
      { context: { left: a.relativeAccuracy, right: b.relativeAccuracy } },
    );
  }
  // Two passes, sizing the arrays first: merges run several times per window and target, in the hot path.
  const ai = a.indexes;
  const bi = b.indexes;
  let size = 0;
  for (let i = 0, j = 0; i < ai.length || j < bi.length; size++) {
    if (j >= bi.length || (i < ai.length && ai[i]! < bi[j]!)) i++;
    else if (i >= ai.length || bi[j]! < ai[i]!) j++;
    else {
      i++;
      j++;
    }
  }
  const indexes = new Array<number>(size);
  const counts = new Array<number>(size);
  for (let i = 0, j = 0, k = 0; k < size; k++) {
    if (j >= bi.length || (i < ai.length && ai[i]! < bi[j]!)) {
      indexes[k] = ai[i]!;
      counts[k] = a.counts[i++]!;
    } else if (i >= ai.length || bi[j]! < ai[i]!) {
      indexes[k] = bi[j]!;
      counts[k] = b.counts[j++]!;
    } else {
      indexes[k] = ai[i]!;
      counts[k] = a.counts[i++]! + b.counts[j++]!;
    }
  }
  return {
    relativeAccuracy: a.relativeAccuracy,
    indexes,
    counts,
    zeroCount: a.zeroCount + b.zeroCount,
    count: a.count + b.count,
    sum: a.sum + b.sum,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
  };
}
