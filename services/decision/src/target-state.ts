import { emptyDesiredState } from "@meshloop/contracts";
import type { ActuationStatus, Controller, DesiredState, TargetRef } from "@meshloop/contracts";
import { initialCanaryState } from "./controllers/canary-state.ts";
import type { CanaryState } from "./controllers/canary-state.ts";
import { initialEjectionState } from "./controllers/ejection.ts";
import type { EjectionState } from "./controllers/ejection.ts";
import { initialRetriesState } from "./controllers/retries.ts";
import type { RetriesState } from "./controllers/retries.ts";
import { initialScalingState } from "./controllers/scaling.ts";
import type { ScalingState } from "./controllers/scaling.ts";
import { initialFailoverState } from "./controllers/failover.ts";
import type { FailoverState } from "./controllers/failover.ts";
import { initialBackpressureState } from "./controllers/backpressure.ts";
import type { BackpressureState } from "./controllers/backpressure.ts";
import { initialSecurityState } from "./controllers/security.ts";
import { initialRoutingState } from "./controllers/routing.ts";
import type { RoutingState } from "./controllers/routing.ts";
import type { SecurityState } from "./controllers/security.ts";
import type { AwaitingApproval, RejectedCaller } from "./approval.ts";
import type { ActionSeconds } from "./guardrails/limits.ts";

/**
 * Everything the decision engine remembers about one target, as plain JSON: the service stores it in Redis after
 * each evaluation, so a restarted or rebalanced instance continues exactly where the last one stopped.
 */
export interface TargetState {
  readonly target: TargetRef;
  /** The newest window end processed; windows ending at or before it are replays and change nothing. */
  readonly lastWindowEndMs: number | null;
  /** The last generation published (0 before the first decision). */
  readonly generation: number;
  /** The last desired state published, the base of the next one. */
  readonly desired: DesiredState;
  readonly canary: CanaryState;
  readonly ejection: EjectionState;
  readonly retries: RetriesState;
  /** Optional for states stored before the controller existed; evaluateTarget starts those from the initial state. */
  readonly scaling?: ScalingState;
  readonly failover?: FailoverState;
  readonly backpressure?: BackpressureState;
  readonly security?: SecurityState;
  readonly routing?: RoutingState;
  /** A decision published for approval whose change is kept aside until an operator approves it. */
  readonly awaitingApproval?: AwaitingApproval | null;
  /** Callers whose proposed denial an operator rejected, not proposed again until then. */
  readonly rejectedCallers?: readonly RejectedCaller[];
  /** Event times of this target's actions, for the per-minute limit (only the last minute is kept). */
  readonly actionTimes: readonly number[];
  readonly lastActionMs: number | null;
  /** A guardrail pause (data that cannot be trusted), with why; null when acting normally. */
  readonly pause: { readonly reason: string; readonly sinceMs: number } | null;
  /** An operator's freeze of this target. */
  readonly frozen: { readonly by: string; readonly reason: string } | null;
  /** Handed back to the mesh by `release`: meshloop publishes nothing for it until an operator unfreezes it. */
  readonly released: boolean;
  /** The last decision not yet known to be applied, and the controllers whose change it carried. */
  readonly pending: { readonly generation: number; readonly controllers: readonly Controller[] } | null;
  /** The last actuation result, shown as it is: a failed or unsupported change is not assumed. */
  readonly lastActuation: {
    readonly generation: number;
    readonly status: ActuationStatus;
    readonly reason: string;
  } | null;
}

/** State shared by all targets of one decision-engine instance (the caller merges it across instances if needed). */
export interface GlobalState {
  /** Actions of all targets per event-time second, the last minute of them. */
  readonly actionSeconds: ActionSeconds;
  readonly frozen: { readonly by: string; readonly reason: string } | null;
  /** Set while the global budget holds actions back, so the pause is announced once. */
  readonly budgetPaused: boolean;
}

/**
 * A target's state before anything happened, or after the store was wiped. Generations derived from event time keep
 * increasing after a wipe as long as the next window is newer than the last decision's; a service that may redeliver
 * older windows after a wipe passes the last generation it knows (the tail of the decisions topic, or the actuators'
 * last applied one) as `lastKnownGeneration`, and the sequence continues above it.
 */
export function initialTargetState(target: TargetRef, lastKnownGeneration = 0): TargetState {
  return {
    target: { ...target },
    lastWindowEndMs: null,
    generation: lastKnownGeneration,
    desired: emptyDesiredState(target),
    canary: initialCanaryState(),
    ejection: initialEjectionState(),
    retries: initialRetriesState(),
    scaling: initialScalingState(),
    failover: initialFailoverState(),
    backpressure: initialBackpressureState(),
    security: initialSecurityState(),
    routing: initialRoutingState(),
    awaitingApproval: null,
    rejectedCallers: [],
    actionTimes: [],
    lastActionMs: null,
    pause: null,
    frozen: null,
    released: false,
    pending: null,
    lastActuation: null,
  };
}

export function initialGlobalState(): GlobalState {
  return { actionSeconds: [], frozen: null, budgetPaused: false };
}
