import type { Evidence, WindowAggregate } from "@meshloop/contracts";
import type { ControllerOutput, Proposal } from "../controller.ts";
import { noAction } from "../controller.ts";
import { duration, pct, stat } from "../format.ts";
import type { ScalingPolicy } from "../policy/schema.ts";
import type { WindowView } from "../windows.ts";
import { newerThan, windowViews } from "../windows.ts";

/**
 * Replica recommendations, the Kubernetes HPA's algorithm judged on windows:
 * - per metric desired = ceil(current x observed / target), with current = the instances seen in the window
 *   (series or resource gauges); no change while observed / target is within 1 ± tolerance (0.1);
 * - CPU: the mean utilization of the instances with a gauge; instances without one count as 0% on a scale-up and as
 *   100% of the target on a scale-down, and if that flips the direction there is no change (HPA's missing metrics);
 * - requests per replica: the window's requests per second over the instances seen;
 * - the largest recommendation of the metrics wins, clamped to [minReplicas, maxReplicas];
 * - scale-down stabilization: a scale-down goes only to the highest recommendation of the last 300 s, and not before
 *   the controller has watched the target that long (a restart or a new target must not scale down on one window);
 * - scale-up limit: per 15 s period at most max(100%, 4 replicas) more than at the period's start.
 * The scale-up base is the instances seen, not the count commanded, so pods still starting do not compound a
 * scale-up; a scale-down is measured against the count commanded, so pods that are missing do not pass for one.
 */

export interface ScaleUp {
  readonly atMs: number;
  readonly from: number;
  readonly to: number;
}

export interface ScalingState {
  readonly lastWindowEndMs: number | null;
  /** Start of the first window judged: scale-downs wait until the stabilization window is covered. */
  readonly firstSeenMs: number | null;
  /** Recommendations [window end, replicas] within the stabilization window. */
  readonly recommendations: readonly (readonly [number, number])[];
  /** Scale-ups carried out within the scale-up period. */
  readonly scaleUps: readonly ScaleUp[];
  /** The count last published; null before meshloop managed replicas. */
  readonly commanded: number | null;
}

export function initialScalingState(): ScalingState {
  return { lastWindowEndMs: null, firstSeenMs: null, recommendations: [], scaleUps: [], commanded: null };
}

interface Recommendation {
  readonly view: WindowView;
  readonly seen: number;
  readonly count: number;
  readonly evidence: Evidence[];
  readonly why: string;
}

export function scalingController(
  state: ScalingState,
  windows: readonly WindowAggregate[],
  policy: ScalingPolicy,
  now: number,
): ControllerOutput<ScalingState> {
  const views = newerThan(windowViews(windows), state.lastWindowEndMs);
  let s: ScalingState = { ...state, lastWindowEndMs: views[views.length - 1]?.endMs ?? state.lastWindowEndMs };
  if (!policy.enabled) return noAction(s, "scaling recommendations are disabled by policy");
  let newest: Recommendation | null = null;
  let recommendations = [...s.recommendations];
  for (const view of views) {
    if (!view.complete) continue;
    const rec = recommend(view, policy);
    if (rec === null) continue;
    newest = rec;
    recommendations.push([view.endMs, rec.count]);
    if (s.firstSeenMs === null) s = { ...s, firstSeenMs: view.startMs };
  }
  recommendations = recommendations.filter(([at]) => at > now - policy.scaleDownStabilization);
  const scaleUps = s.scaleUps.filter((u) => u.atMs > now - policy.scaleUpPeriod);
  s = { ...s, recommendations, scaleUps };
  if (newest === null) return noAction(s, "no complete window with instances or metrics to scale on");

  const { seen, count: raw, view } = newest;
  const window = { startMs: view.startMs, endMs: view.endMs };
  const evidence = [...newest.evidence];
  const mode = policy.ownedByAutoscaler ? "recommend" : "apply";
  // What a scale-down is measured against: the count commanded (when meshloop applies it), else what runs.
  const reference = mode === "apply" ? (s.commanded ?? seen) : seen;
  let desired = raw;
  let why = newest.why;
  if (desired > seen) {
    const first = scaleUps[0];
    const base = first?.from ?? seen;
    const limit = Math.max(Math.ceil(base * (1 + policy.scaleUpPercent / 100) - 1e-9), base + policy.scaleUpReplicas);
    evidence.push({ metric: "scale-up-limit", value: desired, threshold: limit, comparison: desired > limit ? ">" : "<=", window, note: `${base} replicas at the start of the ${duration(policy.scaleUpPeriod)} period` });
    if (desired > limit) {
      why += `, limited to ${limit} (${policy.scaleUpPercent}% or ${policy.scaleUpReplicas} more per ${duration(policy.scaleUpPeriod)})`;
      desired = limit;
    }
  }
  if (desired < reference) {
    const covered = s.firstSeenMs !== null && s.firstSeenMs <= now - policy.scaleDownStabilization;
    const highest = Math.max(...recommendations.map(([, c]) => c));
    evidence.push({ metric: "stabilized-recommendation", value: highest, threshold: reference, comparison: highest < reference ? "<" : ">=", window: { startMs: Math.max(0, now - policy.scaleDownStabilization), endMs: now }, statistic: "max-over-stabilization-window" });
    if (!covered) {
      why += `, but scale-downs wait until ${duration(policy.scaleDownStabilization)} of windows were seen`;
      desired = reference;
    } else if (highest > desired) {
      why += `, held at ${Math.min(reference, highest)} by the highest recommendation of the last ${duration(policy.scaleDownStabilization)}`;
      desired = Math.min(reference, highest);
    }
  }
  desired = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, desired));
  const published = s.commanded ?? seen;
  if (desired === published) return noAction(s, `${why}; replicas stay at ${published}`, evidence);

  const next: ScalingState = {
    ...s,
    commanded: desired,
    scaleUps: desired > seen ? [...scaleUps, { atMs: now, from: seen, to: desired }] : scaleUps,
  };
  const verb = mode === "recommend" ? "recommending" : desired > published ? "scaling up to" : "scaling down to";
  const proposal: Proposal = {
    controller: "scaling",
    kind: "scaling",
    parts: { replicas: { count: desired, mode } },
    urgent: false,
    requiresApproval: false,
  };
  const reason = `${why}; ${verb} ${desired} replicas${mode === "recommend" ? " for the autoscaler that owns them" : ""}.`;
  return { state: next, heldState: s, proposal, evidence, reason: reason.charAt(0).toUpperCase() + reason.slice(1) };
}

/** The recommendation of one window: the largest of its metrics' HPA recommendations; null without instances or metrics. */
function recommend(view: WindowView, policy: ScalingPolicy): Recommendation | null {
  const instances = new Set(view.instances.map((i) => i.instance));
  const cpu = new Map<string, number>();
  for (const part of view.parts) {
    for (const r of part.resources) {
      instances.add(r.instance);
      if (r.cpuUtilization !== null) cpu.set(r.instance, r.cpuUtilization);
    }
  }
  const seen = instances.size;
  if (seen === 0) return null;
  const window = { startMs: view.startMs, endMs: view.endMs };
  const evidence: Evidence[] = [{ metric: "replicas-seen", value: seen, window }];
  const recs: { count: number; why: string }[] = [];
  const tol = policy.tolerance;
  const byRatio = (ratio: number) => (Math.abs(ratio - 1) <= tol ? seen : Math.max(1, Math.ceil(seen * ratio - 1e-9)));

  if (policy.targetCpuUtilization !== null && cpu.size > 0) {
    const target = policy.targetCpuUtilization;
    const sum = [...cpu.values()].reduce((a, b) => a + b, 0);
    const mean = sum / cpu.size;
    const missing = seen - cpu.size;
    let ratio = mean / target;
    let note = `${cpu.size} of ${seen} instances report CPU`;
    if (missing > 0 && Math.abs(ratio - 1) > tol) {
      // HPA: missing pods count as 0% on a scale-up, as 100% of the target on a scale-down; a flip means no change.
      const adjusted = ratio > 1 ? sum / (seen * target) : (sum + missing * target) / (seen * target);
      if (ratio > 1 !== adjusted > 1) {
        note += "; counting the missing ones flips the direction, so no change";
        ratio = 1;
      } else ratio = adjusted;
    }
    const count = byRatio(ratio);
    evidence.push({ metric: "cpu-utilization", value: mean, threshold: target, comparison: mean > target ? ">" : "<=", window, statistic: "mean-over-instances", note });
    recs.push({ count, why: `CPU at ${pct(mean)} against a ${pct(target)} target on ${seen} replicas recommends ${count}` });
  }
  const perReplica = policy.targetRequestsPerReplica;
  const requests = [...view.versions.values()].reduce((a, v) => a + v.requests, 0);
  if (perReplica !== null && requests > 0) {
    const rps = requests / ((view.endMs - view.startMs) / 1000);
    const observed = rps / seen;
    const count = byRatio(observed / perReplica);
    evidence.push({ metric: "requests-per-replica", value: observed, threshold: perReplica, comparison: observed > perReplica ? ">" : "<=", window, statistic: "req/s per instance" });
    recs.push({ count, why: `${stat(observed)} req/s per replica against a target of ${stat(perReplica)} on ${seen} replicas recommends ${count}` });
  }
  if (recs.length === 0) return null;
  // Several metrics: the largest recommendation wins (HPA).
  const best = recs.reduce((a, b) => (b.count > a.count ? b : a));
  const count = Math.min(policy.maxReplicas, Math.max(policy.minReplicas, best.count));
  evidence.push({ metric: "recommended-replicas", value: count, window, note: recs.map((r) => r.count).join(" vs ") });
  return { view, seen, count, evidence, why: best.why };
}
