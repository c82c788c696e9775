import type { LearningTally } from "./baseline.ts";
import { emptySketch } from "@meshloop/contracts";
import type { LatencySketch } from "@meshloop/contracts";
import type { CanaryPolicy } from "../policy/schema.ts";
import { DEFAULT_RATIO_GRID, newSplitTest } from "../statistics/sequential.ts";
import type { SplitTestConfig, SplitTestState } from "../statistics/sequential.ts";

/**
 * The canary controller's state: plain JSON (no Maps, no classes), because the service keeps it in Redis so that a
 * restarted or rebalanced instance continues at the same step.
 */

export type CanaryPhase = "idle" | "pinning" | "progressing";

export interface CanaryOutcome {
  readonly kind: "promoted" | "rolled-back" | "aborted";
  readonly version: string;
  readonly baseline: string;
  readonly atMs: number;
  readonly reason: string;
}

export interface LatencyTestState {
  readonly quantile: number;
  /** Bin of the baseline's quantile in an earlier window: the threshold for "slow"; null until one is known. */
  readonly reference: number | null;
  readonly test: SplitTestState;
}

/** What the current step has seen since its change took effect (weighted counts, merged sketches). */
export interface StepStats {
  readonly windows: number;
  readonly passing: number;
  readonly canaryRequests: number;
  readonly canaryErrors: number;
  readonly baselineRequests: number;
  readonly baselineErrors: number;
  readonly canaryLatency: LatencySketch;
  readonly baselineLatency: LatencySketch;
}

export interface CanaryState {
  readonly phase: CanaryPhase;
  readonly baseline: string | null;
  readonly canary: string | null;
  /** Index into the policy's steps; -1 while the baseline is being pinned. */
  readonly stepIndex: number;
  /** The canary's commanded share in percent. */
  readonly weight: number;
  /** When the controller commanded the current weights (event time). */
  readonly changedAtMs: number | null;
  /**
   * Set by the caller from the actuation result (applied at, plus the propagation delay): only windows starting at
   * or after it are judged. Null while the change has not been applied, which is then not assumed.
   */
  readonly effectiveFromMs: number | null;
  readonly lastWindowEndMs: number | null;
  /** End of the last window with usable data since the last change took effect. */
  readonly lastDataMs: number | null;
  readonly step: StepStats;
  readonly errorTest: SplitTestState;
  readonly latencyTests: readonly LatencyTestState[];
  /** Versions never canaried again: old baselines and rolled-back or aborted canaries (newest last, bounded). */
  readonly retired: readonly string[];
  readonly lastOutcome: CanaryOutcome | null;
  /** An operator's `canary-start` waiting for the next evaluation; version null = the newest one seen. */
  readonly requestedStart: { readonly version: string | null } | null;
  /**
   * Requests per version counted while no baseline is known (first sight, or the baseline stopped serving), until
   * one version leads clearly (`learnBaseline`). Absent in states saved before it existed: read as none.
   */
  readonly learning?: LearningTally | null;
}

export const MAX_RETIRED = 20;

export function initialCanaryState(): CanaryState {
  return {
    phase: "idle",
    baseline: null,
    canary: null,
    stepIndex: -1,
    weight: 0,
    changedAtMs: null,
    effectiveFromMs: null,
    lastWindowEndMs: null,
    lastDataMs: null,
    step: emptyStep(),
    errorTest: newSplitTest({ nullRatio: 1, grid: DEFAULT_RATIO_GRID }),
    latencyTests: [],
    retired: [],
    lastOutcome: null,
    requestedStart: null,
  };
}

export function emptyStep(): StepStats {
  return {
    windows: 0,
    passing: 0,
    canaryRequests: 0,
    canaryErrors: 0,
    baselineRequests: 0,
    baselineErrors: 0,
    canaryLatency: emptySketch(),
    baselineLatency: emptySketch(),
  };
}

export function errorTestConfig(policy: CanaryPolicy): SplitTestConfig {
  return { nullRatio: 1 + policy.errorTolerance, grid: DEFAULT_RATIO_GRID };
}

// The tolerance is in the latency threshold already (latency.ts), so the split itself is tested at ratio 1, exactly.
export const LATENCY_TEST_CONFIG: SplitTestConfig = { nullRatio: 1, grid: DEFAULT_RATIO_GRID };

/** alpha shared equally by the error test and one test per latency quantile (Bonferroni), so all together keep it. */
export function alphaPerTest(policy: CanaryPolicy): number {
  return policy.alpha / (1 + policy.latency.length);
}

/** The latency tests for the policy's quantiles, keeping those already running (a reloaded policy keeps evidence). */
export function reconcileLatencyTests(tests: readonly LatencyTestState[], policy: CanaryPolicy): LatencyTestState[] {
  return policy.latency.map(({ quantile }) => {
    const existing = tests.find((t) => t.quantile === quantile);
    return existing ?? { quantile, reference: null, test: newSplitTest(LATENCY_TEST_CONFIG) };
  });
}

/**
 * Fresh tests for a new canary: evidence about the previous one says nothing about this one. The latency references
 * stay: they describe the baseline, and any threshold fixed in advance keeps the test valid.
 */
export function freshTests(
  policy: CanaryPolicy,
  previous: readonly LatencyTestState[],
): Pick<CanaryState, "errorTest" | "latencyTests"> {
  return {
    errorTest: newSplitTest(errorTestConfig(policy)),
    latencyTests: policy.latency.map(({ quantile }) => ({
      quantile,
      reference: previous.find((t) => t.quantile === quantile)?.reference ?? null,
      test: newSplitTest(LATENCY_TEST_CONFIG),
    })),
  };
}

export function retire(retired: readonly string[], version: string): string[] {
  return [...retired.filter((v) => v !== version), version].slice(-MAX_RETIRED);
}
