import { capabilityOf } from "@meshloop/contracts";
import type { Ejection, Evidence, Mesh, WindowAggregate } from "@meshloop/contracts";
import type { ControllerOutput, Proposal } from "../controller.ts";
import { noAction } from "../controller.ts";
import { duration, pct } from "../format.ts";
import type { EjectionPolicy } from "../policy/schema.ts";
import type { WindowView } from "../windows.ts";
import { newerThan, windowViews } from "../windows.ts";

/**
 * Outlier ejection per instance, Envoy's rules judged on windows:
 * - consecutive failures: an instance whose windows held only failures, at least `consecutive5xx` of them in a row
 *   (a window with any success resets the run: counts cannot tell where in the window the successes were);
 * - success rate: over instances with at least `successRateRequestVolume` requests, if there are at least
 *   `successRateMinimumHosts` of them, an instance below mean - k x stdev (population, k = 1.9) is an outlier.
 * An ejection lasts base x (consecutive ejections), capped, as a lease; when it runs out the instance is back on
 * probation (half-open) for `probeWindows` windows, where a single failing window ejects it again for longer. The
 * multiplier goes down by one per base ejection time of uninterrupted health, slower than Envoy's one per interval:
 * a backend that flaps faster than that keeps its multiplier, so it is ejected for longer and longer (up to the cap)
 * instead of oscillating. Never more than `maxEjectionPercent` of the instances are ejected (at least one may be, but
 * never the only instance: that would send its traffic nowhere).
 * Meshes that cannot eject a chosen instance get tightened outlier-detection settings instead (capabilities.ts),
 * under the same lease.
 */

export interface InstanceRecord {
  readonly instance: string;
  /** Failures in a row across windows (a lower bound). */
  readonly failureRun: number;
  /** Consecutive ejections: the ejection-time multiplier. */
  readonly ejections: number;
  readonly ejectedUntilMs: number | null;
  readonly reason: string | null;
  /** Windows of probation left after an ejection ran out. */
  readonly probeWindowsLeft: number;
  /** Uninterrupted healthy time since the last ejection or decay step. */
  readonly healthyMs: number;
  readonly lastSeenMs: number;
}

export interface EjectionState {
  readonly instances: readonly InstanceRecord[];
  readonly lastWindowEndMs: number | null;
  /** Meshes without chosen-instance ejection: tightened settings hold until then. */
  readonly tightenedUntilMs: number | null;
}

export interface EjectionSettings extends EjectionPolicy {
  readonly mesh: Mesh;
}

// Instances not seen for this long (and not ejected) are forgotten: scaled down or replaced.
const FORGET_AFTER_MS = 30 * 60_000;
// On probation, a window at or above this error ratio with at least consecutive5xx errors ejects again.
const PROBE_FAILURE_RATIO = 0.5;

export function initialEjectionState(): EjectionState {
  return { instances: [], lastWindowEndMs: null, tightenedUntilMs: null };
}

export function ejectionController(
  state: EjectionState,
  windows: readonly WindowAggregate[],
  policy: EjectionSettings,
  now: number,
): ControllerOutput<EjectionState> {
  const views = newerThan(windowViews(windows), state.lastWindowEndMs);
  let records = new Map(state.instances.map((r) => [r.instance, r]));
  const evidence: Evidence[] = [];
  const ejectedNow: { instance: string; reason: string }[] = [];
  for (const view of views) {
    if (!view.complete || !policy.enabled) continue;
    const judged = judge(records, view, policy, now);
    records = judged.records;
    evidence.push(...judged.evidence);
    ejectedNow.push(...judged.ejected);
  }
  // Leases that ran out: back on probation (half-open), not yet trusted.
  for (const [id, r] of records) {
    if (r.ejectedUntilMs !== null && r.ejectedUntilMs <= now) {
      records.set(id, { ...r, ejectedUntilMs: null, probeWindowsLeft: policy.probeWindows, failureRun: 0 });
    }
    if (r.ejectedUntilMs === null && now - r.lastSeenMs > FORGET_AFTER_MS) records.delete(id);
  }
  const lastWindowEndMs = views[views.length - 1]?.endMs ?? state.lastWindowEndMs;
  const instances = [...records.values()].sort((a, b) => (a.instance < b.instance ? -1 : 1));
  const observed: EjectionState = { ...state, lastWindowEndMs, instances: withoutNew(instances, ejectedNow, state, policy, now) };
  if (!policy.enabled) return noAction(observed, "outlier ejection is disabled by policy");
  if (ejectedNow.length === 0) {
    const tightenedUntilMs = state.tightenedUntilMs !== null && state.tightenedUntilMs <= now ? null : state.tightenedUntilMs;
    if (state.tightenedUntilMs !== null && tightenedUntilMs === null) {
      // The tightened settings' lease ran out and nothing renewed it: back to the policy's settings.
      const next = { ...observed, tightenedUntilMs };
      return act(next, observed, { ejection: settings(policy, [], false) }, "No outliers since the ejection settings were tightened; restoring the policy's settings.", evidence);
    }
    return noAction({ ...observed, tightenedUntilMs }, "no outlier instances", evidence);
  }
  const chosen = capabilityOf(policy.mesh, "ejectChosenInstance").support !== "unsupported";
  const ejected = instances.filter((r) => r.ejectedUntilMs !== null && r.ejectedUntilMs > now);
  const list = chosen
    ? ejected.map((r) => ({ instanceId: r.instance, leaseExpiresAt: new Date(r.ejectedUntilMs!).toISOString(), reason: r.reason ?? "outlier" }))
    : [];
  const longest = Math.max(...ejected.map((r) => r.ejectedUntilMs!));
  const next: EjectionState = { ...observed, instances, tightenedUntilMs: chosen ? null : longest };
  const names = ejectedNow.map((e) => `${e.instance} (${e.reason})`).join(", ");
  const reason = chosen
    ? `Ejecting ${names} until ${new Date(longest).toISOString()}`
    : `${names} ${ejectedNow.length > 1 ? "are outliers" : "is an outlier"}; this mesh cannot eject a chosen instance, so its outlier detection is tightened for ${duration(longest - now)}`;
  return act(next, observed, { ejection: settings(policy, list, !chosen) }, `${reason}.`, evidence);
}

interface Judged {
  readonly records: Map<string, InstanceRecord>;
  readonly evidence: Evidence[];
  readonly ejected: { instance: string; reason: string }[];
}

function judge(previous: Map<string, InstanceRecord>, view: WindowView, policy: EjectionPolicy, now: number): Judged {
  const records = new Map(previous);
  const window = { startMs: view.startMs, endMs: view.endMs };
  const evidence: Evidence[] = [];
  const totals = new Map<string, { requests: number; errors: number }>();
  for (const i of view.instances) {
    const t = totals.get(i.instance) ?? { requests: 0, errors: 0 };
    totals.set(i.instance, { requests: t.requests + i.requests, errors: t.errors + i.errors });
  }
  for (const [instance, t] of totals) {
    const r = records.get(instance) ?? fresh(instance, view.endMs);
    const failureRun = t.requests <= 0 ? r.failureRun : t.errors >= t.requests ? r.failureRun + t.errors : 0;
    records.set(instance, { ...r, failureRun, lastSeenMs: view.endMs });
  }
  // Success-rate statistics over the instances with enough volume.
  const rated = [...totals].filter(([, t]) => t.requests >= policy.successRateRequestVolume);
  let threshold: number | null = null;
  if (rated.length >= policy.successRateMinimumHosts) {
    const rates = rated.map(([, t]) => 1 - t.errors / t.requests);
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    const sd = Math.sqrt(rates.reduce((a, b) => a + (b - mean) ** 2, 0) / rates.length);
    threshold = mean - policy.successRateStdevFactor * sd;
  }
  const outliers: { instance: string; reason: string; severity: number }[] = [];
  for (const [instance, t] of totals) {
    const r = records.get(instance)!;
    if (r.ejectedUntilMs !== null && r.ejectedUntilMs > now) continue;
    const rate = t.requests > 0 ? 1 - t.errors / t.requests : 1;
    const onProbation = r.probeWindowsLeft > 0;
    let reason: string | null = null;
    if (r.failureRun >= policy.consecutive5xx) {
      reason = `${Math.round(r.failureRun)} consecutive failures`;
      evidence.push({ metric: "consecutive-failures", value: r.failureRun, threshold: policy.consecutive5xx, comparison: ">=", window, note: instance });
    } else if (threshold !== null && t.requests >= policy.successRateRequestVolume && rate < threshold) {
      reason = `success rate ${pct(rate)} below ${pct(threshold)}`;
      evidence.push({ metric: "success-rate", value: rate, threshold, comparison: "<", window, statistic: `mean-${policy.successRateStdevFactor}-stdev`, note: `${instance} among ${rated.length} instances` });
    } else if (onProbation && t.errors >= policy.consecutive5xx && 1 - rate >= PROBE_FAILURE_RATIO) {
      reason = `failing on probation (${pct(1 - rate)} errors)`;
      evidence.push({ metric: "probe-error-rate", value: 1 - rate, threshold: PROBE_FAILURE_RATIO, comparison: ">=", window, note: instance });
    }
    if (reason !== null) outliers.push({ instance, reason, severity: rate });
    else if (t.requests > 0) {
      // Healthy: probation counts down, and each base ejection time of health takes one off the multiplier.
      const healthyMs = r.healthyMs + (view.endMs - view.startMs);
      const decay = r.ejections > 0 && healthyMs >= policy.baseEjectionTime;
      records.set(instance, {
        ...r,
        probeWindowsLeft: Math.max(0, r.probeWindowsLeft - 1),
        ejections: decay ? r.ejections - 1 : r.ejections,
        healthyMs: decay ? 0 : healthyMs,
      });
    }
  }
  // The blast-radius cap: instances known = seen now or still ejected.
  const known = new Set([...totals.keys(), ...[...records.values()].filter((r) => r.ejectedUntilMs !== null && r.ejectedUntilMs > now).map((r) => r.instance)]);
  const alreadyEjected = [...records.values()].filter((r) => r.ejectedUntilMs !== null && r.ejectedUntilMs > now).length;
  const cap = known.size < 2 ? 0 : Math.max(1, Math.floor((known.size * policy.maxEjectionPercent) / 100));
  const room = Math.max(0, cap - alreadyEjected);
  outliers.sort((a, b) => a.severity - b.severity || (a.instance < b.instance ? -1 : 1));
  const ejected = outliers.slice(0, room).map(({ instance, reason }) => {
    const r = records.get(instance)!;
    const ejections = r.ejections + 1;
    const lease = Math.min(policy.baseEjectionTime * ejections, policy.maxEjectionTime);
    // The lease runs from the decision (now), not the window, so a late batch cannot publish an expired lease.
    records.set(instance, { ...r, ejections, ejectedUntilMs: now + lease, reason, probeWindowsLeft: 0, healthyMs: 0 });
    return { instance, reason };
  });
  if (outliers.length > room) {
    evidence.push({ metric: "ejected-share-cap", value: alreadyEjected + ejected.length, threshold: cap, comparison: ">=", window, note: `${outliers.length - room} outliers left in: at most ${policy.maxEjectionPercent}% of ${known.size} instances` });
  }
  return { records, evidence, ejected };
}

function fresh(instance: string, seenMs: number): InstanceRecord {
  return { instance, failureRun: 0, ejections: 0, ejectedUntilMs: null, reason: null, probeWindowsLeft: 0, healthyMs: 0, lastSeenMs: seenMs };
}

/**
 * The held state keeps what was observed (failure runs, probation, last seen) but not this call's ejections, which
 * were not carried out: their instances stay as they were, so the next evaluation finds them outliers again.
 */
function withoutNew(
  instances: readonly InstanceRecord[],
  ejectedNow: readonly { instance: string }[],
  before: EjectionState,
  policy: EjectionPolicy,
  now: number,
): InstanceRecord[] {
  const names = new Set(ejectedNow.map((e) => e.instance));
  return instances.map((r) => {
    if (!names.has(r.instance)) return r;
    const old = before.instances.find((o) => o.instance === r.instance);
    const expired = old?.ejectedUntilMs != null && old.ejectedUntilMs <= now;
    return {
      ...r,
      ejections: old?.ejections ?? 0,
      ejectedUntilMs: expired ? null : (old?.ejectedUntilMs ?? null),
      reason: old?.reason ?? null,
      probeWindowsLeft: expired ? policy.probeWindows : (old?.probeWindowsLeft ?? 0),
      healthyMs: old?.healthyMs ?? 0,
    };
  });
}

function settings(policy: EjectionPolicy, ejectInstances: Ejection["ejectInstances"], tightened: boolean): Ejection {
  return {
    // Tightened: half the consecutive failures and twice the base time, until the lease runs out.
    consecutive5xx: tightened ? Math.max(1, Math.ceil(policy.consecutive5xx / 2)) : policy.consecutive5xx,
    intervalMs: policy.interval,
    baseEjectionTimeMs: tightened ? policy.baseEjectionTime * 2 : policy.baseEjectionTime,
    maxEjectionPercent: policy.maxEjectionPercent,
    ejectInstances,
  };
}

function act(next: EjectionState, held: EjectionState, parts: Proposal["parts"], reason: string, evidence: Evidence[]): ControllerOutput<EjectionState> {
  const proposal: Proposal = { controller: "ejection", kind: "ejection", parts, urgent: false, requiresApproval: false };
  return { state: next, heldState: held, proposal, evidence, reason };
}
