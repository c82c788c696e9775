import type { Evidence, RetryPolicy, WindowAggregate } from "@meshloop/contracts";
import type { ControllerOutput, Proposal } from "../controller.ts";
import { noAction } from "../controller.ts";
import { ms, pct, stat } from "../format.ts";
import type { RetriesPolicy } from "../policy/schema.ts";
import { newerThan, totalLatency, windowViews } from "../windows.ts";

/**
 * Adaptive retries. Retries are turned on for transient failures only (gateway errors, resets, connect failures,
 * UNAVAILABLE, 503) when the error rate is above the policy's threshold and a retry budget can hold: the retries the
 * failures would cause stay within Linkerd's budget (20% of requests plus 10 per second by default), which is also
 * published so the proxies enforce it. They are turned down (attempts 0) when the callee is saturated, i.e. latency
 * rises with load: p50 above (1 + increase) x its EWMA while the request rate is above its EWMA; retrying then only
 * adds load (a retry storm). Hysteresis: after a saturation they stay off until `RECOVERY_WINDOWS` calm windows.
 */

export interface RetriesState {
  /** What meshloop last asked for: null before it managed retries. */
  readonly on: boolean | null;
  readonly ewmaRps: number | null;
  readonly ewmaP50Ms: number | null;
  /** Calm (unsaturated) windows since the last saturation. */
  readonly calmWindows: number;
  readonly lastWindowEndMs: number | null;
}

const RECOVERY_WINDOWS = 3;
const TRANSIENT: RetryPolicy["retryOn"] = ["gateway-error", "reset", "connect-failure", "unavailable", "retriable-status-codes"];

export function initialRetriesState(): RetriesState {
  return { on: null, ewmaRps: null, ewmaP50Ms: null, calmWindows: RECOVERY_WINDOWS, lastWindowEndMs: null };
}

export function retriesController(
  state: RetriesState,
  windows: readonly WindowAggregate[],
  policy: RetriesPolicy,
  _now: number,
): ControllerOutput<RetriesState> {
  const views = newerThan(windowViews(windows), state.lastWindowEndMs);
  let s: RetriesState = { ...state, lastWindowEndMs: views[views.length - 1]?.endMs ?? state.lastWindowEndMs };
  if (!policy.enabled) return noAction(s, "adaptive retries are disabled by policy");
  let want: boolean | null = null;
  let reason = "";
  let evidence: Evidence[] = [];
  for (const view of views) {
    if (!view.complete) continue;
    let requests = 0;
    let errors = 0;
    for (const v of view.versions.values()) {
      requests += v.requests;
      errors += v.errors;
    }
    if (requests <= 0) continue;
    const seconds = (view.endMs - view.startMs) / 1000;
    const rps = requests / seconds;
    const errorRate = errors / requests;
    const p50 = totalLatency(view).p50 ?? 0;
    const window = { startMs: view.startMs, endMs: view.endMs };
    const saturated =
      s.ewmaRps !== null && s.ewmaP50Ms !== null && rps > s.ewmaRps && p50 > s.ewmaP50Ms * (1 + policy.saturationLatencyIncrease);
    // Each failed request may be retried up to `attempts` times; the budget allows percent x requests + floor x seconds.
    const retriesPerSecond = (errors / seconds) * policy.attempts;
    const budgetPerSecond = (policy.budgetPercent / 100) * rps + policy.minRetriesPerSecond;
    const budgetHolds = retriesPerSecond <= budgetPerSecond;
    evidence = [
      { metric: "error-rate", value: errorRate, threshold: policy.enableAboveErrorRate, comparison: errorRate >= policy.enableAboveErrorRate ? ">=" : "<", window },
      { metric: "retries-per-second-needed", value: retriesPerSecond, threshold: budgetPerSecond, comparison: budgetHolds ? "<=" : ">", window, note: `budget ${policy.budgetPercent}% + ${policy.minRetriesPerSecond}/s` },
      { metric: "latency-p50", value: p50, ...(s.ewmaP50Ms === null ? {} : { threshold: s.ewmaP50Ms * (1 + policy.saturationLatencyIncrease) }), comparison: saturated ? ">" : "<=", window, statistic: "p50-vs-ewma", note: `rps ${stat(rps)} vs EWMA ${s.ewmaRps === null ? "n/a" : stat(s.ewmaRps)}` },
    ];
    const calmWindows = saturated ? 0 : s.calmWindows + 1;
    if (saturated) {
      want = false;
      reason = `the callee is saturated (p50 ${ms(p50)} above ${ms(s.ewmaP50Ms)} x ${1 + policy.saturationLatencyIncrease} while load rose to ${stat(rps)} req/s); turning retries off to avoid a retry storm`;
    } else if (!budgetHolds) {
      want = false;
      reason = `failures (${pct(errorRate)}) would need ${stat(retriesPerSecond)} retries/s, beyond the budget of ${stat(budgetPerSecond)}/s; retries cannot help, turning them off`;
    } else if (errorRate >= policy.enableAboveErrorRate && calmWindows >= RECOVERY_WINDOWS) {
      want = true;
      reason = `transient failures at ${pct(errorRate)} fit the retry budget (${stat(retriesPerSecond)} of ${stat(budgetPerSecond)} retries/s); retrying them up to ${policy.attempts} times`;
    }
    // The EWMAs learn from every window after it was judged, so a window is compared with the past only.
    const a = policy.ewmaAlpha;
    s = {
      ...s,
      calmWindows,
      ewmaRps: s.ewmaRps === null ? rps : a * rps + (1 - a) * s.ewmaRps,
      ewmaP50Ms: s.ewmaP50Ms === null ? p50 : a * p50 + (1 - a) * s.ewmaP50Ms,
    };
  }
  if (want === null || want === s.on) return noAction(s, s.on === null ? "retries not managed yet" : `retries stay ${s.on ? "on" : "off"}`, evidence);
  const next: RetriesState = { ...s, on: want };
  const proposal: Proposal = {
    controller: "retries",
    kind: "retries",
    parts: { retries: want ? retryPolicy(policy) : off() },
    urgent: false,
    requiresApproval: false,
  };
  return { state: next, heldState: s, proposal, evidence, reason: `${reason.charAt(0).toUpperCase()}${reason.slice(1)}.` };
}

function retryPolicy(policy: RetriesPolicy): RetryPolicy {
  return {
    attempts: policy.attempts,
    perTryTimeoutMs: policy.perTryTimeout,
    retryOn: [...TRANSIENT],
    retriableStatusCodes: [503],
    budget: { percent: policy.budgetPercent, minRetriesPerSecond: policy.minRetriesPerSecond },
  };
}

function off(): RetryPolicy {
  return { attempts: 0, perTryTimeoutMs: null, retryOn: [], retriableStatusCodes: [], budget: null };
}
