import { nextLeaseExpiry, pruneExpiredLeases, targetKey } from "@meshloop/contracts";
import { callerKey, liveRejections } from "./approval.ts";
import type { AwaitingApproval } from "./approval.ts";
import type { ActuationResult, Controller, Decision, DeniedCaller, Evidence, PauseNotice, WindowAggregate } from "@meshloop/contracts";
import type { ActionKind, ControllerOutput, Proposal } from "./controller.ts";
import { iso } from "./format.ts";
import { canaryController, canaryEffective } from "./controllers/canary.ts";
import { ejectionController } from "./controllers/ejection.ts";
import { retriesController } from "./controllers/retries.ts";
import { initialScalingState, scalingController } from "./controllers/scaling.ts";
import { failoverController, initialFailoverState } from "./controllers/failover.ts";
import { backpressureController, initialBackpressureState } from "./controllers/backpressure.ts";
import { initialSecurityState, securityController } from "./controllers/security.ts";
import { initialRoutingState, routingController } from "./controllers/routing.ts";
import { composeDesiredState, sameDesiredState } from "./guardrails/compose.ts";
import { nextGeneration } from "./guardrails/generation.ts";
import { selectAction } from "./guardrails/priority.ts";
import { checkCooldown, checkGlobalBudget, checkRate, effectiveCooldownMs, logAction, recentActions } from "./guardrails/limits.ts";
import type { Policy } from "./policy/schema.ts";
import type { GlobalState, TargetState } from "./target-state.ts";
import { windowViews } from "./windows.ts";

/**
 * One evaluation of one target: the enabled controllers judge the new windows, the guardrails pick at most one action
 * (by priority, outside cooldowns and limits, never while frozen, paused or released), and the result is the
 * target's full desired state with a new generation. Pure: the service around it reads aggregates, loads and saves
 * the returned state, and publishes the decision and notices.
 */

export interface EvaluateContext {
  /** Event time to evaluate at. Default: the newest window's end; the service passes its event-time watermark when
   *  it ticks a target that sent nothing, so timeouts (no data, leases) still fire. */
  readonly now?: number;
  /** The loop's measured dead time; cooldowns are never shorter. */
  readonly deadTimeMs?: number;
  /** Actions per minute across all targets before the global budget holds them back. */
  readonly globalMaxActionsPerMinute?: number;
  /** Used in dry run, where nothing is applied: a dry-run change counts as effective after this delay. */
  readonly propagationDelayMs?: number;
  /** Set by the service when its input cannot be trusted for another reason (e.g. consumer lag over its bound). */
  readonly untrustedReason?: string | null;
  /** Wall-clock time for the decision's createdAt; default the window's end, so a replay publishes equal content. */
  readonly createdAt?: string;
}

export const CONTEXT_DEFAULTS = {
  deadTimeMs: 0,
  globalMaxActionsPerMinute: 50,
  propagationDelayMs: 5_000,
} as const;

export interface ControllerReport {
  readonly controller: Controller;
  readonly reason: string;
  /** Why its proposal was held back, when it had one that did not go out. */
  readonly held?: string;
}

export interface Evaluation {
  readonly state: TargetState;
  readonly global: GlobalState;
  readonly decision: Decision | null;
  readonly notices: PauseNotice[];
  /** True when every window was processed before: nothing changed. */
  readonly replay: boolean;
  /** The action taken, if any (a decision for expired leases alone is no action). */
  readonly action: { readonly controller: Controller; readonly kind: ActionKind; readonly urgent: boolean } | null;
  readonly reports: ControllerReport[];
}

interface Candidate {
  readonly name: "canary" | "ejection" | "retries" | "scaling" | "failover" | "backpressure" | "security" | "routing";
  readonly out: ControllerOutput<unknown>;
}

const MAX_REASON = 1000;
const MAX_EVIDENCE = 64;

export function evaluateTarget(
  state: TargetState,
  windows: readonly WindowAggregate[],
  policy: Policy,
  global: GlobalState,
  context: EvaluateContext = {},
): Evaluation {
  const ctx = { ...CONTEXT_DEFAULTS, ...context };
  const last = state.lastWindowEndMs;
  const fresh = last === null ? windows : windows.filter((w) => w.windowStartMs + w.windowMs > last);
  if (windows.length > 0 && fresh.length === 0 && context.now === undefined) {
    return { state, global, decision: null, notices: [], replay: true, reports: [], action: null };
  }
  const views = windowViews(fresh);
  const newest = views[views.length - 1]?.endMs ?? null;
  const now = Math.max(context.now ?? 0, newest ?? 0, last ?? 0);
  const dryRun = policy.guardrails.dryRun;

  const canaryOut = canaryController(state.canary, fresh, { ...policy.canary, checkShare: !dryRun }, now);
  const ejectionOut = ejectionController(state.ejection, fresh, { ...policy.ejection, mesh: state.target.mesh }, now);
  const retriesOut = retriesController(state.retries, fresh, policy.retries, now);
  // States stored before a controller existed lack its part: it starts from its initial state.
  const scalingOut = scalingController(state.scaling ?? initialScalingState(), fresh, policy.scaling, now);
  const failoverOut = failoverController(state.failover ?? initialFailoverState(), fresh, { ...policy.failover, mesh: state.target.mesh }, now);
  const backpressureOut = backpressureController(state.backpressure ?? initialBackpressureState(), fresh, policy.backpressure, now);
  const routingSettings = { ...policy.routing, canaryActive: state.canary.phase !== "idle", current: state.desired.weights };
  const routingOut = routingController(state.routing ?? initialRoutingState(), fresh, routingSettings, now);
  const denied = pruneExpiredLeases(state.desired, now).deniedCallers;
  const awaiting = state.awaitingApproval ?? null;
  const rejected = liveRejections(state.rejectedCallers, now);
  const suppressed = new Set([...(awaiting?.deniedCallers ?? []).map((d) => callerKey(d, state.target.namespace)), ...rejected.map((r) => r.caller)]);
  const securityOut = securityController(state.security ?? initialSecurityState(), fresh, { ...policy.security, target: state.target, denied, suppressed }, now);
  const candidates: Candidate[] = [
    { name: "canary", out: canaryOut },
    { name: "ejection", out: ejectionOut },
    { name: "retries", out: retriesOut },
    { name: "routing", out: routingOut },
    { name: "scaling", out: scalingOut },
    { name: "failover", out: failoverOut },
    { name: "backpressure", out: backpressureOut },
    { name: "security", out: securityOut },
  ];

  // Trust: an incomplete window (or the service's own reason) pauses every action, announced once.
  const notices: PauseNotice[] = [];
  const incomplete = views.find((v) => !v.complete);
  const untrusted =
    context.untrustedReason ??
    (incomplete === undefined ? null : `window ${iso(incomplete.startMs)} is incomplete: ${incomplete.incompleteReason}`);
  let pause = state.pause;
  if (untrusted !== null && pause === null) {
    pause = { reason: untrusted, sinceMs: now };
    notices.push(notice(state, true, `Paused: the data cannot be trusted (${untrusted}).`, now));
  } else if (untrusted === null && pause !== null && views.length > 0) {
    notices.push(notice(state, false, `Resumed: complete data again after a pause since ${iso(pause.sinceMs)}.`, now));
    pause = null;
  }

  // Guardrails: at most one action, the most important one that is allowed now.
  const blockedAll =
    global.frozen !== null
      ? `frozen by ${global.frozen.by} (${global.frozen.reason})`
      : state.frozen !== null
        ? `target frozen by ${state.frozen.by} (${state.frozen.reason})`
        : state.released
          ? "target released to the mesh"
          : pause !== null
            ? `paused: ${pause.reason}`
            : null;
  const cooldown = effectiveCooldownMs(policy.guardrails.cooldown, ctx.deadTimeMs);
  const globalCheck = checkGlobalBudget(global.actionSeconds, now, ctx.globalMaxActionsPerMinute);
  const selection = selectAction(
    candidates.flatMap((c) => (c.out.proposal === null ? [] : [{ name: c.name, proposal: c.out.proposal }])),
    (p) => {
      if (blockedAll !== null) return blockedAll;
      if (!p.urgent) {
        const cooldownCheck = checkCooldown(state.lastActionMs, now, cooldown);
        if (!cooldownCheck.ok) return cooldownCheck.why;
        const rateCheck = checkRate(state.actionTimes, now, policy.guardrails.maxActionsPerMinute, "per-target");
        if (!rateCheck.ok) return rateCheck.why;
      }
      return globalCheck.ok ? null : globalCheck.why;
    },
  );
  const winner = selection.winner === null ? null : candidates.find((c) => c.name === selection.winner!.name)!;
  const held = selection.held;
  let nextGlobal = global;
  const budgetHeld = held.size > 0 && !globalCheck.ok && blockedAll === null && winner === null;
  if (budgetHeld && !global.budgetPaused) {
    nextGlobal = { ...nextGlobal, budgetPaused: true };
    notices.push(globalNotice(`Paused: ${!globalCheck.ok ? globalCheck.why : ""}; many targets acting at once looks like a telemetry outage or a shared failure.`, now));
  } else if (global.budgetPaused && globalCheck.ok) {
    nextGlobal = { ...nextGlobal, budgetPaused: false };
    notices.push(globalNotice("Resumed: the global action budget has room again.", now));
  }

  const pick = <S>(name: Candidate["name"], out: ControllerOutput<S>): S => (winner?.name === name ? out.state : out.heldState);
  let next: TargetState = {
    ...state,
    lastWindowEndMs: newest === null ? last : Math.max(last ?? 0, newest),
    canary: pick("canary", canaryOut),
    ejection: pick("ejection", ejectionOut),
    retries: pick("retries", retriesOut),
    scaling: pick("scaling", scalingOut),
    failover: pick("failover", failoverOut),
    backpressure: pick("backpressure", backpressureOut),
    security: pick("security", securityOut),
    routing: pick("routing", routingOut),
    rejectedCallers: rejected,
    pause,
  };
  const reports: ControllerReport[] = candidates.map((c) => ({
    controller: c.name,
    reason: c.out.reason,
    ...(held.has(c.name) ? { held: held.get(c.name)! } : {}),
  }));

  // Leases that ran out change the desired state by themselves; a decision says so, as the guardrail.
  const expiry = nextLeaseExpiry(state.desired);
  const leaseChanged = !state.released && expiry !== null && expiry <= now && !sameDesiredState(pruneExpiredLeases(state.desired, now), state.desired);
  if ((winner === null && !leaseChanged) || state.released) {
    return { state: next, global: nextGlobal, decision: null, notices, replay: false, reports, action: null };
  }
  const proposal: Proposal | null = winner?.out.proposal ?? null;
  const generation = nextGeneration(state.generation, now);
  const approval = proposal !== null && proposal.requiresApproval ? awaitingOf(state, proposal, awaiting, denied, generation, now, winner!.out.reason) : null;
  const parts = approval === null ? (proposal?.parts ?? {}) : { ...proposal!.parts, deniedCallers: [...denied, ...approval.deniedCallers] };
  const desired = composeDesiredState(state.desired, parts, now);
  const controllers: Controller[] = proposal === null ? ["guardrail"] : leaseChanged ? [proposal.controller, "guardrail"] : [proposal.controller];
  const leaseNote = leaseChanged ? "Leases that ran out were removed (ejections or denials restored)." : "";
  const reason = proposal === null ? leaseNote : `${winner!.out.reason}${leaseChanged ? ` ${leaseNote}` : ""}`;
  const decision: Decision = {
    decisionId: `${targetKey(state.target)}@${generation}`,
    target: { ...state.target },
    generation,
    desiredState: desired,
    controllers,
    reason: reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON - 1)}…` : reason,
    evidence: (winner?.out.evidence ?? []).slice(0, MAX_EVIDENCE),
    requiresApproval: approval !== null,
    dryRun,
    windowEndMs: now,
    createdAt: context.createdAt ?? iso(now),
  };
  next = {
    ...next,
    generation,
    // A change awaiting approval is kept aside: the next decisions build on what is in force, not on it.
    desired: approval === null ? desired : state.desired,
    awaitingApproval: approval ?? awaiting,
    // A decision carries the whole state, so once it is applied so are the earlier changes still pending.
    pending: approval !== null ? state.pending : { generation, controllers: [...new Set([...(state.pending?.controllers ?? []), ...controllers])] },
    ...(proposal === null
      ? {}
      : { actionTimes: [...recentActions(state.actionTimes, now), now], lastActionMs: now }),
  };
  if (proposal !== null) nextGlobal = { ...nextGlobal, actionSeconds: logAction(nextGlobal.actionSeconds, now) };
  // In dry run nothing is applied and no actuation result comes: the change counts as effective after propagation.
  if (dryRun) next = markEffective(next, controllers, now + ctx.propagationDelayMs);
  const action = proposal === null ? null : { controller: proposal.controller, kind: proposal.kind, urgent: proposal.urgent };
  return { state: next, global: nextGlobal, decision, notices, replay: false, reports, action };
}

/**
 * Takes an actuator's result in: an applied decision makes its controllers' change effective from appliedAt plus the
 * propagation delay; anything else (failed, unsupported, awaiting approval, refused) is recorded and shown, and the
 * change is not assumed. Results for older generations than the one pending change nothing.
 */
export function recordActuation(state: TargetState, result: ActuationResult, propagationDelayMs: number): TargetState {
  if (result.generation < state.generation) return state;
  const lastActuation = { generation: result.generation, status: result.status, reason: result.reason };
  const pending = state.pending;
  if (result.status !== "applied" || pending === null) {
    return { ...state, lastActuation };
  }
  const appliedAtMs = Date.parse(result.appliedAt ?? result.observedAt);
  return { ...markEffective(state, pending.controllers, appliedAtMs + propagationDelayMs), lastActuation, pending: null };
}

/** Windows from `effectiveFromMs` on may be judged by the controllers whose change was carried out. */
export function markEffective(state: TargetState, controllers: readonly Controller[], effectiveFromMs: number): TargetState {
  const canary = controllers.includes("canary") || controllers.includes("operator") ? canaryEffective(state.canary, effectiveFromMs) : state.canary;
  return { ...state, canary, pending: null };
}

/** The proposal kept aside for approval; a proposal while another awaits adds to it (both wait under the new id). */
function awaitingOf(state: TargetState, proposal: Proposal, awaiting: AwaitingApproval | null, denied: readonly DeniedCaller[], generation: number, now: number, reason: string): AwaitingApproval {
  const inForce = new Set(denied.map((d) => d.identity));
  const proposed = (proposal.parts.deniedCallers ?? []).filter((d) => !inForce.has(d.identity));
  const earlier = (awaiting?.deniedCallers ?? []).filter((d) => !proposed.some((p) => p.identity === d.identity));
  return {
    decisionId: `${targetKey(state.target)}@${generation}`,
    generation,
    reason,
    proposedAtMs: now,
    deniedCallers: [...earlier, ...proposed],
  };
}

function notice(state: TargetState, paused: boolean, reason: string, now: number): PauseNotice {
  return {
    pauseId: `${targetKey(state.target)}:${paused ? "pause" : "resume"}:${now}`,
    target: { ...state.target },
    paused,
    by: "guardrail",
    reason,
    at: iso(now),
  };
}

function globalNotice(reason: string, now: number): PauseNotice {
  return { pauseId: `global:${reason.startsWith("Paused") ? "pause" : "resume"}:${now}`, paused: reason.startsWith("Paused"), by: "guardrail", reason, at: iso(now) };
}

/** Evidence of the guardrails themselves, for status pages: the cooldown in force and the actions in the last minute. */
export function guardrailEvidence(state: TargetState, policy: Policy, now: number, deadTimeMs: number): Evidence[] {
  const window = { startMs: Math.max(0, now - 60_000), endMs: now };
  return [
    { metric: "cooldown-ms", value: effectiveCooldownMs(policy.guardrails.cooldown, deadTimeMs), window, note: `dead time ${deadTimeMs} ms` },
    { metric: "actions-last-minute", value: recentActions(state.actionTimes, now).length, threshold: policy.guardrails.maxActionsPerMinute, comparison: "<=", window },
  ];
}
