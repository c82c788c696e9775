import type { Evidence, Failover, Locality, Mesh, WindowAggregate } from "@meshloop/contracts";
import type { ControllerOutput, Proposal } from "../controller.ts";
import { noAction } from "../controller.ts";
import { duration, pct } from "../format.ts";
import { normalizeWeights } from "../guardrails/weights.ts";
import type { FailoverPolicy } from "../policy/schema.ts";
import type { WindowView } from "../windows.ts";
import { newerThan, windowViews } from "../windows.ts";

/**
 * Locality failover. A locality (`region/zone`, or `region`) whose success rate stays below `minSuccessRate` for
 * `unhealthyWindows` windows with enough volume, while at least one other locality is healthy, gets its traffic
 * shifted to the healthy ones: a weighted `distribute` by their volume, or an ordered `failover` (best first) on meshes
 * without weighted distribution (Consul). When every locality fails, nothing moves: the fault is not local, and moving
 * traffic would only concentrate it. Traffic goes back after `recoveryWindows` windows at or above
 * `restoreSuccessRate` (hysteresis), or, without evidence (a failed-over locality gets little traffic), after a hold
 * time that grows with consecutive failovers, like an ejection: a half-open probe, failed over again if it still fails.
 * One locality at a time, the worst first.
 */

export interface LocalityRecord {
  readonly locality: string;
  readonly badWindows: number;
  readonly goodWindows: number;
  readonly lastSeenMs: number;
}

export interface FailoverState {
  readonly lastWindowEndMs: number | null;
  readonly localities: readonly LocalityRecord[];
  /** The locality traffic is shifted away from, while it is. */
  readonly active: { readonly locality: string; readonly sinceMs: number; readonly untilMs: number } | null;
  /** Consecutive failovers (of any locality) without a clean recovery: the hold-time multiplier. */
  readonly failovers: number;
}

export interface FailoverSettings extends FailoverPolicy {
  readonly mesh: Mesh;
}

// Localities not seen for this long are forgotten.
const FORGET_AFTER_MS = 30 * 60_000;

export function initialFailoverState(): FailoverState {
  return { lastWindowEndMs: null, localities: [], active: null, failovers: 0 };
}

export function localityKey(l: Locality, level: FailoverPolicy["level"]): string | null {
  if (l.region === null) return null;
  return level === "zone" && l.zone !== null ? `${l.region}/${l.zone}` : l.region;
}

interface Health {
  readonly requests: number;
  readonly errors: number;
}

function localityHealth(view: WindowView, level: FailoverPolicy["level"]): Map<string, Health> {
  const out = new Map<string, Health>();
  for (const part of view.parts) {
    for (const s of part.series) {
      const key = localityKey(s.locality, level);
      if (key === null) continue;
      const h = out.get(key) ?? { requests: 0, errors: 0 };
      out.set(key, { requests: h.requests + s.counters.requests, errors: h.errors + s.counters.errors });
    }
  }
  return out;
}

export function failoverController(
  state: FailoverState,
  windows: readonly WindowAggregate[],
  policy: FailoverSettings,
  now: number,
): ControllerOutput<FailoverState> {
  const views = newerThan(windowViews(windows), state.lastWindowEndMs);
  const lastWindowEndMs = views[views.length - 1]?.endMs ?? state.lastWindowEndMs;
  if (!policy.enabled) return noAction({ ...state, lastWindowEndMs }, "locality failover is disabled by policy");
  const records = new Map(state.localities.map((r) => [r.locality, r]));
  let evidence: Evidence[] = [];
  let latest: Map<string, Health> | null = null;
  let allFailing = false;
  for (const view of views) {
    if (!view.complete) continue;
    const health = localityHealth(view, policy.level);
    const window = { startMs: view.startMs, endMs: view.endMs };
    const judged = [...health].filter(([, h]) => h.requests >= policy.minRequests);
    const healthyPeers = judged.filter(([, h]) => 1 - h.errors / h.requests >= policy.minSuccessRate).length;
    allFailing = judged.length > 0 && healthyPeers === 0;
    evidence = [];
    for (const [locality, h] of health) {
      const r = records.get(locality) ?? { locality, badWindows: 0, goodWindows: 0, lastSeenMs: view.endMs };
      if (h.requests < policy.minRequests) {
        // Too little traffic to judge: the runs neither grow nor reset (a gap, not evidence).
        records.set(locality, { ...r, lastSeenMs: view.endMs });
        continue;
      }
      const success = 1 - h.errors / h.requests;
      const bad = success < policy.minSuccessRate && healthyPeers > 0;
      const good = success >= policy.restoreSuccessRate;
      records.set(locality, { locality, badWindows: bad ? r.badWindows + 1 : 0, goodWindows: good ? r.goodWindows + 1 : 0, lastSeenMs: view.endMs });
      evidence.push({ metric: "locality-success-rate", value: success, threshold: policy.minSuccessRate, comparison: success < policy.minSuccessRate ? "<" : ">=", window, note: `${locality}, ${Math.round(h.requests)} requests` });
    }
    latest = health;
  }
  for (const [k, r] of records) if (now - r.lastSeenMs > FORGET_AFTER_MS && state.active?.locality !== k) records.delete(k);
  const localities = [...records.values()].sort((a, b) => (a.locality < b.locality ? -1 : 1));
  const observed: FailoverState = { ...state, lastWindowEndMs, localities };
  const active = state.active;

  if (active !== null) {
    const r = records.get(active.locality);
    const recovered = r !== undefined && r.goodWindows >= policy.recoveryWindows;
    const expired = now >= active.untilMs;
    if (!recovered && !expired) return noAction(observed, `traffic stays shifted away from ${active.locality} until it recovers or ${new Date(active.untilMs).toISOString()}`, evidence);
    // The probe starts from a clean run: only new failing windows fail it over again.
    const reset = localities.map((l) => (l.locality === active.locality ? { ...l, badWindows: 0 } : l));
    const next: FailoverState = { ...observed, localities: reset, active: null, failovers: recovered ? 0 : state.failovers };
    const why = recovered
      ? `locality ${active.locality} has been healthy (at least ${pct(policy.restoreSuccessRate)} success) for ${r.goodWindows} windows; sending its traffic back`
      : `locality ${active.locality} was failed over for ${duration(active.untilMs - active.sinceMs)} without evidence of recovery; sending traffic back to probe it (it is failed over again, for longer, if it still fails)`;
    return act("failover", next, observed, { failover: null }, `${why}.`, evidence);
  }
  // A clean recovery of everyone after a probe ends the run of consecutive failovers.
  if (state.failovers > 0 && localities.length > 0 && localities.every((l) => l.goodWindows >= policy.recoveryWindows)) {
    return noAction({ ...observed, failovers: 0 }, "every locality has been healthy since the last failover", evidence);
  }
  if (allFailing) return noAction(observed, "every locality with traffic is failing: the fault is not local, so traffic is not moved", evidence);
  const failing = localities.filter((r) => r.badWindows >= policy.unhealthyWindows);
  if (failing.length === 0 || latest === null) return noAction(observed, "every locality is healthy or has too little traffic to judge", evidence);
  const rate = (k: string) => {
    const h = latest.get(k);
    return h === undefined || h.requests <= 0 ? 1 : 1 - h.errors / h.requests;
  };
  const worst = failing.sort((a, b) => rate(a.locality) - rate(b.locality) || (a.locality < b.locality ? -1 : 1))[0]!;
  const healthy = [...latest]
    .filter(([k, h]) => k !== worst.locality && h.requests >= policy.minRequests && rate(k) >= policy.minSuccessRate)
    .sort(([a], [b]) => rate(b) - rate(a) || (a < b ? -1 : 1));
  if (healthy.length === 0) return noAction(observed, `${worst.locality} is failing but no other locality is healthy with traffic to take it over`, evidence);
  const failover: Failover =
    policy.mesh === "consul"
      ? { kind: "failover", fromLocality: worst.locality, toLocalities: healthy.map(([k]) => k) }
      : { kind: "distribute", fromLocality: worst.locality, distribution: normalizeWeights(Object.fromEntries(healthy.map(([k, h]) => [k, h.requests]))) };
  const failovers = state.failovers + 1;
  const hold = Math.min(policy.holdTime * failovers, policy.maxHoldTime);
  const next: FailoverState = { ...observed, failovers, active: { locality: worst.locality, sinceMs: now, untilMs: now + hold } };
  const to = healthy.map(([k]) => k).join(", ");
  const reason = `locality ${worst.locality} has served only ${pct(rate(worst.locality))} successfully for ${worst.badWindows} windows (below ${pct(policy.minSuccessRate)}) while ${to} ${healthy.length > 1 ? "are" : "is"} healthy; shifting its traffic there for up to ${duration(hold)}.`;
  return act("failover", next, observed, { failover }, reason, evidence);
}

function act(kind: "failover", next: FailoverState, held: FailoverState, parts: Proposal["parts"], reason: string, evidence: Evidence[]): ControllerOutput<FailoverState> {
  const proposal: Proposal = { controller: kind, kind, parts, urgent: false, requiresApproval: false };
  return { state: next, heldState: held, proposal, evidence, reason: reason.charAt(0).toUpperCase() + reason.slice(1) };
}
