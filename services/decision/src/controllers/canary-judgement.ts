import type { Evidence, LatencySketch } from "@meshloop/contracts";
import { count, ms, pct, quantileName, stat } from "../format.ts";
import type { CanaryPolicy } from "../policy/schema.ts";
import { compareLatency, exceedances, minCountFor, referenceIndex } from "../statistics/latency.ts";
import type { QuantileComparison } from "../statistics/latency.ts";
import { splitTestVerdict, updateSplitTest } from "../statistics/sequential.ts";
import type { SplitTestVerdict } from "../statistics/sequential.ts";
import { mergeTwo } from "../statistics/sketch.ts";
import type { WindowView } from "../windows.ts";
import { versionTotals } from "../windows.ts";
import { iso } from "../format.ts";
import { alphaPerTest, errorTestConfig, LATENCY_TEST_CONFIG } from "./canary-state.ts";
import type { CanaryState, LatencyTestState } from "./canary-state.ts";

/**
 * Judging one window of a running canary against the baseline in the same window. The order of the checks is the
 * order in which they make the window unusable: not yet effective, incomplete, no traffic, traffic share not what was
 * commanded, baseline failing too; only then the sequential tests (rollback) and the step's gates (promotion).
 */

export type WindowVerdict =
  | "not-effective"
  | "incomplete"
  | "no-data"
  | "share-mismatch"
  | "baseline-failing"
  | "rollback"
  | "insufficient"
  | "fail"
  | "pass";

export interface CanarySettings extends CanaryPolicy {
  /** False in dry run: nothing is applied, so the observed share never follows the commanded one. */
  readonly checkShare?: boolean;
}

export interface WindowJudgement {
  readonly verdict: WindowVerdict;
  /** The state with this window's observations (tests, step totals, streak, references); no transition. */
  readonly state: CanaryState;
  readonly evidence: Evidence[];
  readonly note: string;
}

// Share checks allow this many binomial standard deviations on top of the tolerance.
const SHARE_SIGMAS = 3;
// A baseline is called failing only on at least this many errors, so one error at 1 rps is not "failing".
const MIN_BASELINE_FAILURES = 5;
// Evidence values must be finite JSON numbers.
const MAX_EVIDENCE = 1e300;

export function judgeWindow(s: CanaryState, view: WindowView, policy: CanarySettings): WindowJudgement {
  const canary = s.canary!;
  const baseline = s.baseline!;
  const window = { startMs: view.startMs, endMs: view.endMs };
  const c = versionTotals(view, canary);
  const b = versionTotals(view, baseline);
  const latencyTests = withReferences(s.latencyTests, b.latency, policy, s.step.baselineLatency);
  const observed: CanaryState = { ...s, latencyTests };
  const hold = (verdict: WindowVerdict, note: string, evidence: Evidence[] = [], state = observed): WindowJudgement => ({
    verdict,
    state,
    evidence,
    note,
  });

  if (s.effectiveFromMs === null) {
    return hold("not-effective", `${canary}'s ${s.weight}% step has not taken effect yet (no applied actuation result)`);
  }
  if (view.startMs < s.effectiveFromMs) {
    return hold("not-effective", `window ${iso(view.startMs)} began before the ${s.weight}% step took effect`);
  }
  if (!view.complete) return hold("incomplete", `window ${iso(view.startMs)} is incomplete: ${view.incompleteReason}`);

  const scale = view.scale;
  const nc = c.requests / scale;
  const nb = b.requests / scale;
  if (nc + nb <= 0) return hold("no-data", `neither ${canary} nor ${baseline} served requests in window ${iso(view.startMs)}`);

  const commanded = s.weight / 100;
  const share = c.requests / (c.requests + b.requests);
  const allowed = policy.shareTolerance * commanded + SHARE_SIGMAS * Math.sqrt((commanded * (1 - commanded)) / (nc + nb));
  const shareEvidence: Evidence = {
    metric: "canary-traffic-share",
    value: share,
    threshold: commanded,
    comparison: Math.abs(share - commanded) <= allowed ? "==" : "!=",
    window,
    statistic: "observed-share",
    note: `commanded ${s.weight}%, allowed gap ${pct(allowed)}`,
  };
  if (policy.checkShare !== false && Math.abs(share - commanded) > allowed) {
    return hold(
      "share-mismatch",
      `${canary} got ${pct(share)} of the traffic, not the commanded ${s.weight}% (within ${pct(allowed)})`,
      [shareEvidence],
    );
  }
  if (nc <= 0) return hold("no-data", `${canary} served no requests in window ${iso(view.startMs)}`, [shareEvidence]);

  const withData: CanaryState = { ...observed, lastDataMs: view.endMs };
  const baselineRate = b.requests > 0 ? b.errors / b.requests : 0;
  if (baselineRate > policy.baselineFailingErrorRate && b.errors / scale >= MIN_BASELINE_FAILURES) {
    const evidence: Evidence = {
      metric: "baseline-error-rate",
      value: baselineRate,
      threshold: policy.baselineFailingErrorRate,
      comparison: ">",
      window,
      statistic: "error-ratio",
    };
    return hold(
      "baseline-failing",
      `the baseline ${baseline} is failing too (${pct(baselineRate)} errors), so ${canary} is not blamed`,
      [evidence],
      { ...withData, step: { ...withData.step, passing: 0 } },
    );
  }

  // Sequential tests: the window's counts, brought back to observed requests by the sampling scale.
  const errorTest = updateSplitTest(s.errorTest, errorTestConfig(policy), {
    canaryEvents: c.errors / scale,
    canaryTrials: nc,
    baselineEvents: b.errors / scale,
    baselineTrials: nb,
  });
  const updatedLatency: LatencyTestState[] = s.latencyTests.map((t, i) => {
    const tolerance = policy.latency.find((l) => l.quantile === t.quantile)?.tolerance ?? 0;
    const ex = t.reference === null ? null : exceedances(c.latency, b.latency, t.reference, tolerance);
    if (ex === null) return latencyTests[i]!;
    const test = updateSplitTest(t.test, LATENCY_TEST_CONFIG, {
      canaryEvents: ex.canarySlow / scale,
      canaryTrials: ex.canaryCount / scale,
      baselineEvents: ex.baselineSlow / scale,
      baselineTrials: ex.baselineCount / scale,
    });
    return { ...latencyTests[i]!, test };
  });
  const alpha = alphaPerTest(policy);
  const errorVerdict = splitTestVerdict(errorTest, alpha);
  const latencyVerdicts = updatedLatency.map((t) => splitTestVerdict(t.test, alpha));
  const testEvidence = testsEvidence(errorTest, errorVerdict, updatedLatency, latencyVerdicts, alpha, window);
  const step = {
    ...s.step,
    windows: s.step.windows + 1,
    canaryRequests: s.step.canaryRequests + c.requests,
    canaryErrors: s.step.canaryErrors + c.errors,
    baselineRequests: s.step.baselineRequests + b.requests,
    baselineErrors: s.step.baselineErrors + b.errors,
    canaryLatency: mergeTwo(s.step.canaryLatency, c.latency),
    baselineLatency: mergeTwo(s.step.baselineLatency, b.latency),
  };
  const tested: CanaryState = { ...withData, errorTest, latencyTests: updatedLatency, step };

  if (errorVerdict.rejected) {
    const canaryRate = errorTest.canaryEvents / errorTest.canaryTrials;
    const baseRate = errorTest.baselineEvents / errorTest.baselineTrials;
    return hold(
      "rollback",
      `${canary}'s error rate ${pct(canaryRate)} is above ${baseline}'s ${pct(baseRate)} by more than ` +
        `${pct(policy.errorTolerance)} (sequential test e-value ${stat(errorVerdict.eValue)} >= ${stat(1 / alpha)}, ` +
        `p = ${stat(errorVerdict.pValue)}, over ${errorTest.windows} windows)`,
      [shareEvidence, ...testEvidence],
      tested,
    );
  }
  for (const [i, t] of updatedLatency.entries()) {
    const verdict = latencyVerdicts[i]!;
    if (!verdict.rejected) continue;
    const tolerance = policy.latency.find((l) => l.quantile === t.quantile)?.tolerance ?? 0;
    return hold(
      "rollback",
      `${canary}'s ${quantileName(t.quantile)} latency is worse than ${baseline}'s by more than ${pct(tolerance)}: ` +
        `${pct(t.test.canaryEvents / t.test.canaryTrials)} of its requests were slow against ` +
        `${pct(t.test.baselineEvents / t.test.baselineTrials)} of ${baseline}'s ` +
        `(sequential test e-value ${stat(verdict.eValue)} >= ${stat(1 / alpha)}, over ${t.test.windows} windows)`,
      [shareEvidence, ...testEvidence],
      tested,
    );
  }

  // The step's gates, on everything the step has seen: volume, latency within tolerance, errors within tolerance.
  const comparisons = compareLatency(step.canaryLatency, step.baselineLatency, policy.latency, policy.minLatencyCount);
  const gateEvidence = gatesEvidence(step, comparisons, policy, window);
  const evidence = [shareEvidence, ...testEvidence, ...gateEvidence];
  const canaryRate = step.canaryErrors / step.canaryRequests;
  const baseRate = step.baselineRequests > 0 ? step.baselineErrors / step.baselineRequests : 0;
  const errorLimit = errorGate(step, policy.errorTolerance, scale);
  if (step.canaryRequests < policy.minRequestsPerStep) {
    return hold(
      "insufficient",
      `${canary} has served ${count(step.canaryRequests)} of the ${count(policy.minRequestsPerStep)} requests ` +
        `the ${s.weight}% step needs before it is judged`,
      evidence,
      tested,
    );
  }
  const short = comparisons.find((x) => x.verdict === "insufficient");
  if (short !== undefined) {
    return hold(
      "insufficient",
      `${quantileName(short.quantile)} latency needs ${count(short.minCount)} requests of each version ` +
        `(${canary} ${count(short.canaryCount)}, ${baseline} ${count(short.baselineCount)})`,
      evidence,
      tested,
    );
  }
  const failed = comparisons.find((x) => x.verdict === "fail");
  const failNote =
    failed !== undefined
      ? `${canary}'s ${quantileName(failed.quantile)} ${ms(failed.canaryMs)} is above ${baseline}'s ` +
        `${ms(failed.baselineMs)} by more than ${pct(failed.limit - 1)}`
      : canaryRate > errorLimit
        ? `${canary}'s error rate ${pct(canaryRate)} is above ${baseline}'s ${pct(baseRate)} by more than ` +
          `${pct(policy.errorTolerance)} in this step`
        : null;
  if (failNote !== null) return hold("fail", failNote, evidence, { ...tested, step: { ...step, passing: 0 } });
  const passing = step.passing + 1;
  return hold(
    "pass",
    `${canary} passes at ${s.weight}% (${passing} of ${policy.passingWindows} windows): errors ${pct(canaryRate)} ` +
      `vs ${pct(baseRate)}, ${comparisons.map((x) => `${quantileName(x.quantile)} ${ms(x.canaryMs)} vs ${ms(x.baselineMs)}`).join(", ")}`,
    evidence,
    { ...tested, step: { ...step, passing } },
  );
}

/**
 * The most a step's pooled canary error rate may be: the baseline's times (1 + tolerance), plus one standard error
 * of the difference. Without that slack a healthy canary whose pooled rate happens to sit 1-2 sigma high stays held
 * for many windows, since pooling makes a fluctuation persist; rollbacks are the sequential test's job, not this.
 */
function errorGate(step: CanaryState["step"], tolerance: number, scale: number): number {
  const nc = step.canaryRequests / scale;
  const nb = Math.max(step.baselineRequests / scale, 1);
  const baseRate = step.baselineErrors / Math.max(step.baselineRequests, 1);
  // Add-one pooled rate, so that a step without any error still has a standard error.
  const pooled = ((step.canaryErrors + step.baselineErrors) / scale + 1) / (nc + nb);
  return baseRate * (1 + tolerance) + Math.sqrt(pooled * (1 - pooled) * (1 / nc + 1 / nb));
}

/**
 * References move with every window that has enough baseline data, judged or not, and are used from the next window
 * on: a threshold fixed before the window it is applied to, which the validity of the latency test needs. At low
 * traffic, where one window is too thin for a p99, the step's pooled baseline (this window included) stands in.
 */
export function withReferences(
  tests: readonly LatencyTestState[],
  baselineLatency: LatencySketch,
  policy: CanaryPolicy,
  pooled?: LatencySketch,
): LatencyTestState[] {
  let merged: LatencySketch | null = null;
  return tests.map((t) => {
    const minCount = minCountFor(t.quantile, policy.minLatencyCount);
    let reference = referenceIndex(baselineLatency, t.quantile, minCount);
    if (reference === null && pooled !== undefined) {
      merged ??= mergeTwo(pooled, baselineLatency);
      reference = referenceIndex(merged, t.quantile, minCount);
    }
    return { ...t, reference: reference ?? t.reference };
  });
}

function testsEvidence(
  errorTest: CanaryState["errorTest"],
  e: SplitTestVerdict,
  latency: readonly LatencyTestState[],
  verdicts: readonly SplitTestVerdict[],
  alpha: number,
  window: Evidence["window"],
): Evidence[] {
  const out: Evidence[] = [
    {
      metric: "error-rate-ratio",
      value: finite(e.eValue),
      threshold: 1 / alpha,
      comparison: e.rejected ? ">=" : "<",
      window,
      statistic: "msprt-e-value",
      pValue: e.pValue,
      note:
        `canary ${count(errorTest.canaryEvents)}/${count(errorTest.canaryTrials)} errors, baseline ` +
        `${count(errorTest.baselineEvents)}/${count(errorTest.baselineTrials)}` +
        (e.observedRatio === null ? "" : `, ratio ${stat(e.observedRatio)}`),
    },
  ];
  for (const [i, t] of latency.entries()) {
    const v = verdicts[i]!;
    out.push({
      metric: `latency-${quantileName(t.quantile)}-exceedance`,
      value: finite(v.eValue),
      threshold: 1 / alpha,
      comparison: v.rejected ? ">=" : "<",
      window,
      statistic: "msprt-e-value",
      pValue: v.pValue,
      note: `slow: canary ${count(t.test.canaryEvents)}/${count(t.test.canaryTrials)}, baseline ${count(t.test.baselineEvents)}/${count(t.test.baselineTrials)}`,
    });
  }
  return out;
}

function gatesEvidence(
  step: CanaryState["step"],
  comparisons: readonly QuantileComparison[],
  policy: CanaryPolicy,
  window: Evidence["window"],
): Evidence[] {
  const out: Evidence[] = [
    {
      metric: "step-canary-requests",
      value: step.canaryRequests,
      threshold: policy.minRequestsPerStep,
      comparison: step.canaryRequests >= policy.minRequestsPerStep ? ">=" : "<",
      window,
    },
  ];
  for (const x of comparisons) {
    if (x.ratio === null) continue;
    out.push({
      metric: `latency-${quantileName(x.quantile)}-ratio`,
      value: finite(x.ratio),
      threshold: x.limit,
      comparison: x.ratio > x.limit ? ">" : "<=",
      window,
      statistic: quantileName(x.quantile),
      note: `canary ${ms(x.canaryMs)} (${count(x.canaryCount)}), baseline ${ms(x.baselineMs)} (${count(x.baselineCount)}), ${x.verdict}`,
    });
  }
  return out;
}

function finite(value: number): number {
  return Number.isFinite(value) ? Math.min(value, MAX_EVIDENCE) : MAX_EVIDENCE;
}
