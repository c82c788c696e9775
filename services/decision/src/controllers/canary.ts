import type { Evidence, WindowAggregate } from "@meshloop/contracts";
import type { ControllerOutput, Proposal } from "../controller.ts";
import { noAction } from "../controller.ts";
import { duration, iso } from "../format.ts";
import type { WindowView } from "../windows.ts";
import { newerThan, versionTotals, windowViews } from "../windows.ts";
import { describeTally, learnBaseline } from "./baseline.ts";
import { judgeWindow, withReferences } from "./canary-judgement.ts";
import type { CanarySettings } from "./canary-judgement.ts";
import { emptyStep, freshTests, reconcileLatencyTests, retire } from "./canary-state.ts";
import type { CanaryOutcome, CanaryState } from "./canary-state.ts";

/**
 * The progressive canary. Lifecycle: a new version shows up (or an operator starts one) -> the baseline is pinned at
 * 100% before the canary gets any traffic -> the canary takes the policy's steps (5, 10, 25, 50 by default), each
 * judged only on windows that begin after the step took effect, with the observed share matching the commanded one
 * -> the last step (100) is promotion: the canary becomes the baseline and the old version goes to 0. It is rolled
 * back (0%) as soon as a sequential test rejects, or when no usable data came for `noDataTimeout`; an operator may
 * abort it. Missing or thin data only ever holds a step, never promotes it.
 */
export function canaryController(
  state: CanaryState,
  windows: readonly WindowAggregate[],
  policy: CanarySettings,
  now: number,
): ControllerOutput<CanaryState> {
  const views = newerThan(windowViews(windows), state.lastWindowEndMs);
  let s: CanaryState = { ...state, latencyTests: reconcileLatencyTests(state.latencyTests, policy) };
  const evidence: Evidence[] = [];
  let note: string | null = null;
  for (const view of views) {
    s = { ...s, lastWindowEndMs: view.endMs };
    if (!policy.enabled) continue;
    if (s.phase !== "progressing") {
      const baseline = s.baseline === null ? null : versionTotals(view, s.baseline).latency;
      if (baseline !== null) s = { ...s, latencyTests: withReferences(s.latencyTests, baseline, policy) };
    }
    if (s.phase === "idle") {
      const started = detect(s, view, policy, now);
      if (started.action !== null) return finishBatch(started.action, views);
      s = started.state;
      note = started.note ?? note;
      if (started.evidence.length > 0) evidence.splice(0, evidence.length, ...started.evidence);
      continue;
    }
    if (s.phase !== "progressing") continue;
    const judged = judgeWindow(s, view, policy);
    s = judged.state;
    note = judged.note;
    evidence.splice(0, evidence.length, ...judged.evidence);
    if (judged.verdict === "rollback") {
      return finishBatch(endCanary(s, "rolled-back", `${judged.note}; rolling back to ${s.baseline}`, now, true, evidence), views);
    }
    if (judged.verdict === "pass" && s.step.passing >= policy.passingWindows) {
      return finishBatch(advance(s, policy, now, evidence), views);
    }
  }
  if (!policy.enabled) return noAction(s, "the canary controller is disabled by policy");
  if (s.phase === "pinning" && s.effectiveFromMs !== null && now >= s.effectiveFromMs) return advance(s, policy, now, []);
  if (s.phase === "idle" && s.requestedStart !== null) {
    return noAction(s, `canary start requested for ${s.requestedStart.version ?? "the newest version"}; waiting for it to show up`);
  }
  if (s.phase === "progressing") {
    const since = s.effectiveFromMs === null ? s.changedAtMs! : Math.max(s.effectiveFromMs, s.lastDataMs ?? 0);
    if (now - since >= policy.noDataTimeout) {
      const why =
        s.effectiveFromMs === null
          ? `the change to ${s.weight}% has not taken effect for ${duration(now - since)}`
          : `no usable data about ${s.canary} for ${duration(now - since)} (timeout ${duration(policy.noDataTimeout)})`;
      return endCanary(s, "rolled-back", `${why}; rolling back to ${s.baseline}`, now, false, evidence);
    }
  }
  return noAction(s, note ?? describe(s), evidence);
}

/** An operator's `canary-start` (version or newest) or `canary-abort`, as a pure state change. */
export function canaryCommand(
  state: CanaryState,
  command: { readonly command: "canary-start" | "canary-abort"; readonly version?: string; readonly operator: string },
  now: number,
): ControllerOutput<CanaryState> {
  if (command.command === "canary-start") {
    if (state.phase !== "idle") return noAction(state, `a canary of ${state.canary} is running already`);
    const retired = command.version === undefined ? state.retired : state.retired.filter((v) => v !== command.version);
    const s = { ...state, retired, requestedStart: { version: command.version ?? null } };
    return noAction(s, `${command.operator} asked for a canary of ${command.version ?? "the newest version"}`);
  }
  if (state.phase === "idle") return noAction(state, "no canary is running; nothing to abort");
  return endCanary(state, "aborted", `${command.operator} aborted the canary of ${state.canary}; back to ${state.baseline}`, now, true, []);
}

/** Marks the last commanded change as effective from `effectiveFromMs` (the caller's actuation bookkeeping). */
export function canaryEffective(state: CanaryState, effectiveFromMs: number): CanaryState {
  return state.changedAtMs === null ? state : { ...state, effectiveFromMs };
}

interface Detection {
  readonly state: CanaryState;
  readonly action: ControllerOutput<CanaryState> | null;
  /** How the baseline was learned, when it was learned by this window. */
  readonly evidence: Evidence[];
  readonly note: string | null;
}

/** In idle: learn the baseline, and start a canary for a version not seen before while the baseline serves. */
function detect(state: CanaryState, view: WindowView, policy: CanarySettings, now: number): Detection {
  let s = state;
  let note: string | null = null;
  let evidence: Evidence[] = [];
  if (s.baseline === null || versionTotals(view, s.baseline).requests <= 0) {
    // The baseline is the version serving most, counted until it leads clearly; after a wiped state this rebuilds
    // it from the traffic.
    const learned = learnBaseline(s.learning, view);
    const top = learned.baseline;
    if (top === null) {
      const learning = learned.counted;
      return { state: { ...s, learning }, action: null, evidence: [], note: learning === null ? null : `learning the baseline: ${describeTally(learning)}` };
    }
    const retired = s.baseline === null || s.baseline === top ? s.retired : retire(s.retired, s.baseline);
    const learnedHow = `${top} is the baseline (${describeTally(learned.counted!)})`;
    note = s.baseline === null ? learnedHow : `${s.baseline} serves nothing any more; ${learnedHow}`;
    evidence = learned.evidence;
    s = { ...s, baseline: top, retired, learning: null };
  } else if (s.learning != null) {
    // The baseline serves again: what was counted meanwhile is not evidence for another.
    s = { ...s, learning: null };
  }
  const baseline = s.baseline!;
  const requested = s.requestedStart;
  const candidates = view.seenVersions.filter((v) => v !== baseline && !s.retired.includes(v));
  const version = requested?.version != null ? candidates.find((v) => v === requested.version) : candidates[0];
  if (version === undefined) return { state: s, action: null, evidence, note };
  const started: CanaryState = {
    ...s,
    ...freshTests(policy, s.latencyTests),
    phase: "pinning",
    canary: version,
    stepIndex: -1,
    weight: 0,
    changedAtMs: now,
    effectiveFromMs: null,
    lastDataMs: null,
    step: emptyStep(),
    requestedStart: null,
  };
  const reason = `${requested === null ? "New version" : "Requested canary of"} ${version} detected; pinning ${baseline} at 100% before ${version} gets any traffic${note === null ? "" : `; ${note}`}`;
  return { state: started, action: act(started, s, weightsOf(baseline, version, 0), reason, evidence, false), evidence, note: null };
}

/** The next step, or promotion when the next step is 100. */
function advance(s: CanaryState, policy: CanarySettings, now: number, evidence: Evidence[]): ControllerOutput<CanaryState> {
  const nextIndex = s.stepIndex + 1;
  const weight = policy.steps[Math.min(nextIndex, policy.steps.length - 1)]!;
  const canary = s.canary!;
  const baseline = s.baseline!;
  if (weight >= 100) {
    return endCanary(s, "promoted", `${canary} passed every step up to ${s.weight}%; promoting it to 100% and retiring ${baseline}`, now, false, evidence);
  }
  const next: CanaryState = {
    ...s,
    phase: "progressing",
    stepIndex: nextIndex,
    weight,
    changedAtMs: now,
    effectiveFromMs: null,
    lastDataMs: null,
    step: emptyStep(),
  };
  const reason =
    s.phase === "pinning"
      ? `The pin of ${baseline} at 100% took effect; ${canary}'s canary starts at ${weight}%`
      : `${canary} passed the ${s.weight}% step (${s.step.passing} windows in a row, ${Math.round(s.step.canaryRequests)} requests); raising its share to ${weight}%`;
  return act(next, s, weightsOf(baseline, canary, weight), reason, evidence, false);
}

function endCanary(
  s: CanaryState,
  kind: CanaryOutcome["kind"],
  reason: string,
  now: number,
  urgent: boolean,
  evidence: Evidence[],
): ControllerOutput<CanaryState> {
  const canary = s.canary!;
  const baseline = s.baseline!;
  const promoted = kind === "promoted";
  const outcome: CanaryOutcome = { kind, version: canary, baseline, atMs: now, reason };
  const next: CanaryState = {
    ...s,
    phase: "idle",
    baseline: promoted ? canary : baseline,
    canary: null,
    stepIndex: -1,
    weight: 0,
    changedAtMs: now,
    effectiveFromMs: null,
    lastDataMs: null,
    step: emptyStep(),
    retired: retire(s.retired, promoted ? baseline : canary),
    lastOutcome: outcome,
    requestedStart: null,
  };
  const weights = promoted ? weightsOf(canary, baseline, 0) : weightsOf(baseline, canary, 0);
  const proposal: Proposal = {
    controller: "canary",
    kind: promoted ? "weight-shift" : "rollback",
    parts: { weights },
    urgent,
    requiresApproval: false,
  };
  return { state: next, heldState: s, proposal, evidence, reason: `${reason}.` };
}

function act(
  next: CanaryState,
  held: CanaryState,
  weights: Record<string, number>,
  reason: string,
  evidence: Evidence[],
  urgent: boolean,
): ControllerOutput<CanaryState> {
  const proposal: Proposal = { controller: "canary", kind: "weight-shift", parts: { weights }, urgent, requiresApproval: false };
  return { state: next, heldState: held, proposal, evidence, reason: `${reason}.` };
}

/** The canary at `weight` percent and the baseline at the rest: always two versions summing to 100. */
function weightsOf(baseline: string, canary: string, weight: number): Record<string, number> {
  return { [baseline]: 100 - weight, [canary]: weight };
}

/** Windows after the one that triggered the action began before the action took effect: seen, not judged. */
function finishBatch(out: ControllerOutput<CanaryState>, views: readonly WindowView[]): ControllerOutput<CanaryState> {
  const last = views[views.length - 1]?.endMs ?? null;
  if (last === null) return out;
  return { ...out, state: { ...out.state, lastWindowEndMs: last }, heldState: { ...out.heldState, lastWindowEndMs: last } };
}

function describe(s: CanaryState): string {
  if (s.phase === "idle") return s.baseline === null ? "no baseline known yet" : `no canary running; ${s.baseline} is the baseline`;
  if (s.phase === "pinning") return `waiting for the pin of ${s.baseline} at 100% to take effect`;
  if (s.effectiveFromMs === null) return `waiting for ${s.canary}'s ${s.weight}% step to take effect`;
  return `${s.canary} at ${s.weight}%: waiting for windows that begin after ${iso(s.effectiveFromMs)}`;
}
