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
 * sketchQuantile(mergeSketches(sketches), q) to the last bit, without building the merged sketch: the bins of all
 * sketches are walked together and their counts added in the same order the merge adds them. For controllers that
 * read one quantile of a window's versions together, where the merge's arrays were garbage the moment it was read.
 */
export function mergedQuantile(sketches: readonly LatencySketch[], q: number): number | null {
  // Empty sketches take no part, as in mergeTwo (their min and max of 0 must not count).
  let first: LatencySketch | null = null;
  let count = 0;
  let zeroCount = 0;
  let min = 0;
  let max = 0;
  let live = 0;
  for (const sketch of sketches) {
    if (sketch.count <= 0) continue;
    live++;
    if (first === null) {
      first = sketch;
      count = sketch.count;
      zeroCount = sketch.zeroCount;
      min = sketch.min;
      max = sketch.max;
      continue;
    }
    if (sketch.relativeAccuracy !== first.relativeAccuracy) {
      throw new ValidationError(
        `cannot merge latency sketches of relative accuracy ${first.relativeAccuracy} and ${sketch.relativeAccuracy}`,
        { context: { left: first.relativeAccuracy, right: sketch.relativeAccuracy } },
      );
    }
    count += sketch.count;
    zeroCount += sketch.zeroCount;
    min = Math.min(min, sketch.min);
    max = Math.max(max, sketch.max);
  }
  if (first === null) return null;
  const rank = q * Math.max(0, count - 1);
  if (rank < zeroCount) return min;
  const parts = live === sketches.length ? sketches : sketches.filter((sketch) => sketch.count > 0);
  const index = parts.length === 2 ? rankIndexOfTwo(parts[0]!, parts[1]!, rank, zeroCount) : rankIndexOfMany(parts, rank, zeroCount);
  if (index === null) return max;
  return Math.min(max, Math.max(min, binValue(index, sketchGamma(first.relativeAccuracy))));
}

/**
 * The first bin (in index order over all sketches) at which the cumulative count, from `start`, passes `rank`; the
 * last bin when none does (float sums a hair short, as in quantileIndex); null without bins. A bin both hold counts
 * first's count plus second's, as mergeTwo adds them.
 */
function rankIndexOfTwo(a: LatencySketch, b: LatencySketch, rank: number, start: number): number | null {
  const ai = a.indexes;
  const bi = b.indexes;
  const ac = a.counts;
  const bc = b.counts;
  const na = ai.length;
  const nb = bi.length;
  let cumulative = start;
  let i = 0;
  let j = 0;
  let index: number | null = null;
  while (i < na || j < nb) {
    if (j >= nb || (i < na && ai[i]! < bi[j]!)) {
      index = ai[i]!;
      cumulative += ac[i++]!;
    } else if (i >= na || bi[j]! < ai[i]!) {
      index = bi[j]!;
      cumulative += bc[j++]!;
    } else {
      index = ai[i]!;
      cumulative += ac[i++]! + bc[j++]!;
    }
    if (cumulative > rank) return index;
  }
  return index;
}

/** rankIndexOfTwo for any number of sketches, walking all of them at once. */
function rankIndexOfMany(parts: readonly LatencySketch[], rank: number, start: number): number | null {
  const positions = new Array<number>(parts.length).fill(0);
  let cumulative = start;
  let index: number | null = null;
  for (;;) {
    let next = Number.POSITIVE_INFINITY;
    for (let k = 0; k < parts.length; k++) {
      const at = positions[k]!;
      const indexes = parts[k]!.indexes;
      if (at < indexes.length && indexes[at]! < next) next = indexes[at]!;
    }
    if (next === Number.POSITIVE_INFINITY) return index;
    let bin = 0;
    let seen = false;
    for (let k = 0; k < parts.length; k++) {
      const at = positions[k]!;
      const part = parts[k]!;
      if (at < part.indexes.length && part.indexes[at] === next) {
        bin = seen ? bin + part.counts[at]! : part.counts[at]!;
        seen = true;
        positions[k] = at + 1;
      }
    }
    cumulative += bin;
    index = next;
    if (cumulative > rank) return index;
  }
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
  // Two passes, sizing the arrays first (allocated at their final length, never grown or trimmed): merges run
  // several times per window and target, in the hot path. The first pass only walks the overlap of the two ranges,
  // where bins can coincide; locals instead of property reads in the loops halve the time of a merge.
  const ai = a.indexes;
  const bi = b.indexes;
  const ac = a.counts;
  const bc = b.counts;
  const na = ai.length;
  const nb = bi.length;
  let size = na + nb;
  for (let i = 0, j = 0; i < na && j < nb; ) {
    const x = ai[i]!;
    const y = bi[j]!;
    if (x < y) i++;
    else if (y < x) j++;
    else {
      i++;
      j++;
      size--;
    }
  }
  const indexes = new Array<number>(size);
  const counts = new Array<number>(size);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < na && j < nb) {
    const x = ai[i]!;
    const y = bi[j]!;
    if (x < y) {
      indexes[k] = x;
      counts[k++] = ac[i++]!;
    } else if (y < x) {
      indexes[k] = y;
      counts[k++] = bc[j++]!;
    } else {
      indexes[k] = x;
      counts[k++] = ac[i++]! + bc[j++]!;
    }
  }
  while (i < na) {
    indexes[k] = ai[i]!;
    counts[k++] = ac[i++]!;
  }
  while (j < nb) {
    indexes[k] = bi[j]!;
    counts[k++] = bc[j++]!;
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
