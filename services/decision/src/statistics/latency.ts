import { sketchGamma } from "@meshloop/contracts";
import type { LatencySketch } from "@meshloop/contracts";
import { countAbove, quantileIndex, sketchQuantile } from "./sketch.ts";

/**
 * Latency: canary against baseline from merged sketches, in two ways.
 *
 * 1. A descriptive comparison of quantiles (p99, p50, any) with a relative tolerance and a minimum count, used to
 *    gate promotion: a step passes only when every quantile is within tolerance on enough requests.
 * 2. Exceedance counts for the sequential test (sequential.ts), used for rollback. "Slow" for the baseline means
 *    above a reference r (a baseline quantile from earlier windows, so it does not depend on the window judged);
 *    for the canary it means above (1 + tolerance)·r, rounded up to a bin boundary. If the canary's latency is at
 *    most (1 + tolerance) times the baseline's in distribution, P(canary > (1 + tol)·r) <= P(baseline > r), so a
 *    canary that is slow more often than the baseline is evidence of a regression beyond the tolerance. Counts
 *    above bin boundaries are exact in a DDSketch, so this test is as exact as the error-rate one.
 */

export interface QuantileTolerance {
  /** 0 < quantile < 1, e.g. 0.99. */
  readonly quantile: number;
  /** Relative: 0.25 lets the canary be 25% slower than the baseline at this quantile. */
  readonly tolerance: number;
}

export type LatencyVerdict = "pass" | "fail" | "insufficient";

export interface QuantileComparison {
  readonly quantile: number;
  readonly canaryMs: number | null;
  readonly baselineMs: number | null;
  /** canary / baseline; null without data on either side. */
  readonly ratio: number | null;
  /** The ratio above which the canary is worse: 1 + tolerance. */
  readonly limit: number;
  /** Requests each side needs before this quantile is judged. */
  readonly minCount: number;
  readonly canaryCount: number;
  readonly baselineCount: number;
  readonly verdict: LatencyVerdict;
}

// Expected values beyond the quantile a judgement needs: with fewer, a p99 is just the largest value seen.
const MIN_TAIL_VALUES = 5;

/** The requests a side needs to judge quantile q: the floor, and enough for MIN_TAIL_VALUES above the quantile. */
export function minCountFor(quantile: number, floor: number): number {
  const tail = Math.min(quantile, 1 - quantile);
  return Math.max(floor, Math.ceil(MIN_TAIL_VALUES / Math.max(tail, 1e-6)));
}

/**
 * Compares the quantiles of two merged sketches. A canary faster than the baseline always passes; a baseline at 0 ms
 * (everything in the zero bucket) compares by the canary being at 0 ms too.
 */
export function compareLatency(
  canary: LatencySketch,
  baseline: LatencySketch,
  quantiles: readonly QuantileTolerance[],
  minCountFloor: number,
): QuantileComparison[] {
  return quantiles.map(({ quantile, tolerance }) => {
    const minCount = minCountFor(quantile, minCountFloor);
    const canaryMs = sketchQuantile(canary, quantile);
    const baselineMs = sketchQuantile(baseline, quantile);
    const limit = 1 + tolerance;
    const ratio =
      canaryMs === null || baselineMs === null
        ? null
        : baselineMs > 0
          ? canaryMs / baselineMs
          : canaryMs > 0
            ? Number.POSITIVE_INFINITY
            : 1;
    const enough = canary.count >= minCount && baseline.count >= minCount;
    const verdict: LatencyVerdict = !enough || ratio === null ? "insufficient" : ratio > limit ? "fail" : "pass";
    return {
      quantile,
      canaryMs,
      baselineMs,
      ratio,
      limit,
      minCount,
      canaryCount: canary.count,
      baselineCount: baseline.count,
      verdict,
    };
  });
}

/** How many bins the canary's threshold sits above the baseline's: at least a factor (1 + tolerance). */
export function toleranceShift(tolerance: number, relativeAccuracy: number): number {
  const gamma = sketchGamma(relativeAccuracy);
  return Math.max(0, Math.ceil(Math.log(1 + tolerance) / Math.log(gamma) - 1e-9));
}

/**
 * The reference bin for later windows: the bin of the baseline's q-quantile, or null when the baseline has fewer
 * requests than `minCount` (then the caller keeps its previous reference).
 */
export function referenceIndex(baseline: LatencySketch, quantile: number, minCount: number): number | null {
  if (baseline.count < minCount) return null;
  return quantileIndex(baseline, quantile);
}

export interface Exceedances {
  readonly canarySlow: number;
  readonly canaryCount: number;
  readonly baselineSlow: number;
  readonly baselineCount: number;
  /** The thresholds in ms (bin boundaries): baseline r, canary (1 + tolerance)·r or a little above. */
  readonly baselineThresholdMs: number;
  readonly canaryThresholdMs: number;
}

/**
 * One window's slow counts for the sequential latency test, against a reference bin chosen before the window; null
 * when the two sketches bin differently (a changed aggregator setting), since their boundaries then do not line up.
 */
export function exceedances(
  canary: LatencySketch,
  baseline: LatencySketch,
  reference: number,
  tolerance: number,
): Exceedances | null {
  if (canary.count > 0 && baseline.count > 0 && canary.relativeAccuracy !== baseline.relativeAccuracy) return null;
  const accuracy = baseline.count > 0 ? baseline.relativeAccuracy : canary.relativeAccuracy;
  const shift = toleranceShift(tolerance, accuracy);
  const gamma = sketchGamma(accuracy);
  return {
    canarySlow: countAbove(canary, reference + shift),
    canaryCount: canary.count,
    baselineSlow: countAbove(baseline, reference),
    baselineCount: baseline.count,
    baselineThresholdMs: gamma ** reference,
    canaryThresholdMs: gamma ** (reference + shift),
  };
}
