import type { ConnectionLimits, Evidence, WindowAggregate } from "@meshloop/contracts";
import type { ControllerOutput, Proposal } from "../controller.ts";
import { noAction } from "../controller.ts";
import { duration, ms, stat } from "../format.ts";
import type { BackpressurePolicy } from "../policy/schema.ts";
import { newerThan, totalLatency, windowViews } from "../windows.ts";

/**
 * Backpressure: adaptive connection and pending-request limits with Envoy's gradient rule on windows.
 * gradient = (1 + buffer) x minRTT / sampleRTT, clamped to [0.5, 2], where sampleRTT is the window's p50 and minRTT
 * the lowest p50 of the last `minRttHorizon` (windows with enough requests only). Saturated: p50 above
 * (1 + buffer) x minRTT for `saturatedWindows` windows in a row; the limit becomes gradient x limit + sqrt(gradient x
 * limit) (the square root is Envoy's queue headroom), starting from the concurrency in flight (Little's law: requests
 * per second x mean latency) when meshloop did not manage limits yet. Recovered: p50 under (1 + buffer / 2) x minRTT
 * for `recoveredWindows` windows (the band between is a dead band); the limit grows by the same rule, and once it
 * reaches `maxLimit`, or after `leaseTime` without saturation, the limits are handed back to the mesh (null).
 * Every change makes proxies rebuild their connection pools, so there is at most one change per `interval`.
 * The limits are per proxy and the estimate is the whole service's concurrency, so they err on the loose side.
 */

export interface BackpressureState {
  readonly lastWindowEndMs: number | null;
  /** Lowest p50 per minute [minute start, ms], over the horizon. */
  readonly minRtt: readonly (readonly [number, number])[];
  readonly saturatedRun: number;
  readonly recoveredRun: number;
  /** The limit meshloop set; null while the mesh's own limits hold. */
  readonly limit: number | null;
  readonly lastChangeMs: number | null;
  readonly lastSaturatedMs: number | null;
  /** Requests in flight in the newest judged window (Little's law). */
  readonly inflight: number | null;
}

export function initialBackpressureState(): BackpressureState {
  return { lastWindowEndMs: null, minRtt: [], saturatedRun: 0, recoveredRun: 0, limit: null, lastChangeMs: null, lastSaturatedMs: null, inflight: null };
}

export function connectionLimitsFor(limit: number): ConnectionLimits {
  return { maxConnections: limit, maxPendingRequests: Math.max(1, Math.ceil(limit / 4)), maxRequests: limit, maxRetries: Math.max(3, Math.ceil(limit * 0.2)) };
}

export function backpressureController(
  state: BackpressureState,
  windows: readonly WindowAggregate[],
  policy: BackpressurePolicy,
  now: number,
): ControllerOutput<BackpressureState> {
  const views = newerThan(windowViews(windows), state.lastWindowEndMs);
  let s: BackpressureState = { ...state, lastWindowEndMs: views[views.length - 1]?.endMs ?? state.lastWindowEndMs };
  if (!policy.enabled) return noAction(s, "adaptive connection limits are disabled by policy");
  let evidence: Evidence[] = [];
  let sample: { p50: number; min: number; window: { startMs: number; endMs: number } } | null = null;
  for (const view of views) {
    if (!view.complete) continue;
    const series = [...view.versions.values()];
    const requests = series.reduce((a, v) => a + v.requests, 0);
    if (requests < policy.minRequests) continue;
    const sketch = totalLatency(view);
    const p50 = sketch.p50;
    if (p50 === null || sketch.count <= 0) continue;
    const window = { startMs: view.startMs, endMs: view.endMs };
    const inflight = (requests / ((view.endMs - view.startMs) / 1000)) * (sketch.sum / sketch.count / 1000);
    const known = s.minRtt.filter(([at]) => at > view.endMs - policy.minRttHorizon);
    const min = known.length === 0 ? null : Math.min(...known.map(([, v]) => v));
    const minute = Math.floor(view.endMs / 60_000) * 60_000;
    const bucket = known.find(([at]) => at === minute);
    const minRtt = [...known.filter(([at]) => at !== minute), [minute, Math.min(bucket?.[1] ?? p50, p50)] as const].sort((a, b) => a[0] - b[0]);
    s = { ...s, minRtt, inflight };
    if (min === null) continue;
    const ratio = p50 / min;
    const saturated = ratio > 1 + policy.buffer;
    const recovered = ratio < 1 + policy.buffer / 2;
    s = {
      ...s,
      saturatedRun: saturated ? s.saturatedRun + 1 : 0,
      recoveredRun: recovered ? s.recoveredRun + 1 : 0,
      lastSaturatedMs: saturated ? view.endMs : s.lastSaturatedMs,
    };
    sample = { p50, min, window };
    evidence = [
      { metric: "latency-p50", value: p50, threshold: min * (1 + policy.buffer), comparison: saturated ? ">" : "<=", window, statistic: "p50-vs-min-p50", note: `min p50 ${ms(min)} over ${duration(policy.minRttHorizon)}` },
      { metric: "inflight-requests", value: inflight, window, statistic: "little's law" },
    ];
  }
  const sinceChange = s.lastChangeMs === null ? Number.POSITIVE_INFINITY : now - s.lastChangeMs;
  const cadence = sinceChange >= policy.interval;
  // The lease: limits set for a saturation that is over are handed back, even without new windows.
  const calmFor = now - (s.lastSaturatedMs ?? s.lastChangeMs ?? now);
  if (s.limit !== null && calmFor >= policy.leaseTime && cadence) {
    const next = { ...s, limit: null, lastChangeMs: now, saturatedRun: 0, recoveredRun: 0 };
    return act(next, s, null, `No saturation for ${duration(calmFor)}; handing the connection limits back to the mesh.`, evidence);
  }
  if (sample === null) return noAction(s, "no window with enough requests to compare latency with its minimum", evidence);
  const { p50, min } = sample;
  const gradient = Math.min(2, Math.max(0.5, ((1 + policy.buffer) * min) / p50));
  evidence.push({ metric: "gradient", value: gradient, threshold: 1, comparison: gradient < 1 ? "<" : ">=", window: sample.window, statistic: "(1 + buffer) x minRTT / sampleRTT" });
  if (s.saturatedRun >= policy.saturatedWindows) {
    const base = s.limit ?? Math.min(policy.maxLimit, Math.max(policy.minLimit, Math.ceil(s.inflight ?? policy.maxLimit)));
    const target = Math.max(policy.minLimit, Math.min(base - 1, Math.floor(gradient * base + Math.sqrt(gradient * base))));
    if (target >= base) return noAction(s, `saturated (p50 ${ms(p50)} against a minimum of ${ms(min)}) but the limit is at its minimum of ${base}`, evidence);
    if (!cadence) return noAction(s, `saturated, but limits changed ${duration(sinceChange)} ago (at most once per ${duration(policy.interval)})`, evidence);
    const next = { ...s, limit: target, lastChangeMs: now, saturatedRun: 0, recoveredRun: 0 };
    return act(next, s, target, `Saturated for ${s.saturatedRun} windows (p50 ${ms(p50)} above ${stat(1 + policy.buffer)} x the minimum ${ms(min)}); lowering connection and request limits from ${s.limit ?? `about ${base} in flight`} to ${target} (gradient ${stat(gradient)}).`, evidence);
  }
  if (s.limit !== null && s.recoveredRun >= policy.recoveredWindows) {
    const g = Math.max(1, gradient);
    const target = Math.max(s.limit + 1, Math.ceil(g * s.limit + Math.sqrt(g * s.limit)));
    if (!cadence) return noAction(s, `recovered, but limits changed ${duration(sinceChange)} ago (at most once per ${duration(policy.interval)})`, evidence);
    const handBack = target >= policy.maxLimit;
    const next = { ...s, limit: handBack ? null : target, lastChangeMs: now, saturatedRun: 0, recoveredRun: 0 };
    const what = handBack ? `handing the limits back to the mesh (${target} reaches the maximum ${policy.maxLimit})` : `raising the limits from ${s.limit} to ${target}`;
    return act(next, s, handBack ? null : target, `Latency recovered for ${s.recoveredRun} windows (p50 ${ms(p50)} near the minimum ${ms(min)}); ${what}.`, evidence);
  }
  return noAction(s, s.limit === null ? `not saturated (p50 ${ms(p50)}, minimum ${ms(min)})` : `limits stay at ${s.limit}`, evidence);
}

function act(next: BackpressureState, held: BackpressureState, limit: number | null, reason: string, evidence: Evidence[]): ControllerOutput<BackpressureState> {
  const proposal: Proposal = {
    controller: "backpressure",
    kind: "backpressure",
    parts: { connectionLimits: limit === null ? null : connectionLimitsFor(limit) },
    urgent: false,
    requiresApproval: false,
  };
  return { state: next, heldState: held, proposal, evidence, reason };
}
