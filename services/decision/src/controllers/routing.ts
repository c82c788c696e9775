import type { Evidence, WindowAggregate } from "@meshloop/contracts";
import type { ControllerOutput, Proposal } from "../controller.ts";
import { noAction } from "../controller.ts";
import { ms, pct } from "../format.ts";
import { normalizeWeights } from "../guardrails/weights.ts";
import type { RoutingPolicy } from "../policy/schema.ts";
import { sketchQuantile } from "../statistics/sketch.ts";
import { newerThan, windowViews } from "../windows.ts";

/**
 * Latency- and error-aware weights across the versions a target serves (outside a canary, which owns the weights
 * while it runs). Each version keeps an EWMA of its error rate and p50 over windows with enough requests; its score
 * is 1 / (p50 x (1 + errorPenalty x error rate)) and the target weights follow the scores, never below `minWeight`.
 * A dead band (no change while every weight is within `deadBand` points of its target) keeps noise from moving
 * traffic, and each decision moves a weight at most `maxStep` points, so a shift is gradual and its effect is seen
 * before the next one (the cooldown spaces the steps).
 */

export interface VersionHealth {
  readonly version: string;
  readonly errorRate: number;
  readonly p50Ms: number;
  readonly windows: number;
}

export interface RoutingState {
  readonly lastWindowEndMs: number | null;
  readonly versions: readonly VersionHealth[];
}

export interface RoutingSettings extends RoutingPolicy {
  /** A canary is running: it owns the weights, routing waits. */
  readonly canaryActive: boolean;
  /** The weights in force (the last desired state's), null while the mesh's own routing holds. */
  readonly current: Readonly<Record<string, number>> | null;
}

// A version's EWMAs are judged after this many windows; fewer is noise.
const MIN_WINDOWS = 3;

export function initialRoutingState(): RoutingState {
  return { lastWindowEndMs: null, versions: [] };
}

export function routingController(state: RoutingState, windows: readonly WindowAggregate[], policy: RoutingSettings, now: number): ControllerOutput<RoutingState> {
  const views = newerThan(windowViews(windows), state.lastWindowEndMs);
  const byVersion = new Map(state.versions.map((v) => [v.version, v]));
  for (const view of views) {
    if (!view.complete) continue;
    for (const [version, totals] of view.versions) {
      if (totals.requests < policy.minRequests) continue;
      const p50 = sketchQuantile(totals.latency, 0.5);
      if (p50 === null) continue;
      const errorRate = totals.errors / totals.requests;
      const known = byVersion.get(version);
      const a = policy.ewmaAlpha;
      byVersion.set(
        version,
        known === undefined
          ? { version, errorRate, p50Ms: p50, windows: 1 }
          : { version, errorRate: (1 - a) * known.errorRate + a * errorRate, p50Ms: (1 - a) * known.p50Ms + a * p50, windows: known.windows + 1 },
      );
    }
  }
  const s: RoutingState = {
    lastWindowEndMs: views[views.length - 1]?.endMs ?? state.lastWindowEndMs,
    versions: [...byVersion.values()].sort((x, y) => (x.version < y.version ? -1 : 1)),
  };
  if (!policy.enabled) return noAction(s, "weighted routing is disabled by policy");
  if (policy.canaryActive) return noAction(s, "a canary owns the weights while it runs");
  // Only versions that currently serve take part: routing never brings a drained version back.
  const serving = s.versions.filter((v) => v.windows >= MIN_WINDOWS && (policy.current === null || (policy.current[v.version] ?? 0) > 0));
  if (serving.length < 2) return noAction(s, "fewer than two serving versions with enough traffic to weigh against each other");
  const unjudged = Object.entries(policy.current ?? {}).filter(([v, w]) => w > 0 && !serving.some((x) => x.version === v));
  if (unjudged.length > 0) return noAction(s, `version ${unjudged[0]![0]} serves but has too little data to weigh`);
  const window = { startMs: views[0]?.startMs ?? now, endMs: now };
  const evidence: Evidence[] = serving.flatMap((v) => [
    { metric: "error-rate-ewma", value: v.errorRate, window, note: v.version },
    { metric: "latency-p50-ewma", value: v.p50Ms, window, note: v.version },
  ]);
  const raw = serving.map((v) => [v.version, 1 / (Math.max(v.p50Ms, 0.001) * (1 + policy.errorPenalty * v.errorRate))] as const);
  const total = raw.reduce((a, [, x]) => a + x, 0);
  // Shares in percent: normalizeWeights spreads what each asks above its floor.
  const scores = Object.fromEntries(raw.map(([v, x]) => [v, (100 * x) / total]));
  const floors = Object.fromEntries(serving.map((v) => [v.version, policy.minWeight]));
  const target = normalizeWeights(scores, floors);
  const current = policy.current ?? normalizeWeights(Object.fromEntries(serving.map((v) => [v.version, 1])));
  const gap = Math.max(...serving.map((v) => Math.abs(target[v.version]! - (current[v.version] ?? 0))));
  evidence.push({ metric: "weight-gap", value: gap, threshold: policy.deadBand, comparison: gap > policy.deadBand ? ">" : "<=", window, statistic: "largest |target - current| in points" });
  const summary = serving.map((v) => `${v.version} ${pct(v.errorRate)} errors, p50 ${ms(v.p50Ms)}`).join("; ");
  if (gap <= policy.deadBand) return noAction(s, `weights are within ${policy.deadBand} points of what latency and errors suggest (${summary})`, evidence);
  const stepped = Object.fromEntries(serving.map((v) => {
    const from = current[v.version] ?? 0;
    const to = target[v.version]!;
    return [v.version, from + Math.max(-policy.maxStep, Math.min(policy.maxStep, to - from))];
  }));
  // Versions at 0 stay listed at 0: the weights are the whole routing table.
  const drained = Object.fromEntries(Object.keys(policy.current ?? {}).filter((v) => !(v in stepped)).map((v) => [v, 0]));
  const weights = { ...drained, ...normalizeWeights(stepped, floors) };
  const moves = serving.map((v) => `${v.version} ${current[v.version] ?? 0}→${weights[v.version]}`).join(", ");
  const proposal: Proposal = { controller: "routing", kind: "weight-shift", parts: { weights }, urgent: false, requiresApproval: false };
  return { state: s, heldState: s, proposal, evidence, reason: `Shifting weights by latency and errors (${summary}): ${moves}.` };
}
