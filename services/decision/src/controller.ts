import type { Controller, DesiredState, Evidence, WindowAggregate } from "@meshloop/contracts";

/**
 * What every controller is: a pure, deterministic function of its state, the target's new windows, its policy and
 * `now` (the newest window's end, never the wall clock), so a replay decides exactly as the first run did.
 */

/** The parts of a desired state a controller wants to set; the guardrails compose the full state from them. */
export type DesiredParts = Partial<Omit<DesiredState, "target">>;

/**
 * Priority classes, most important first. When several controllers want to act on one target in the same
 * evaluation, the first class wins and the others wait: one change at a time, so that the next windows show the
 * effect of exactly one change. Rollback over ejection over weight shift over scaling, as the issue asks; the
 * protective limits (failover, backpressure, retries) sit between ejection and weight shifts.
 */
export const ACTION_KINDS = [
  "rollback",
  "ejection",
  "failover",
  "backpressure",
  "retries",
  "weight-shift",
  "scaling",
  "security",
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export function actionRank(kind: ActionKind): number {
  return ACTION_KINDS.indexOf(kind);
}

export interface Proposal {
  readonly controller: Controller;
  readonly kind: ActionKind;
  readonly parts: DesiredParts;
  /**
   * Skips the per-target cooldown and rate limit (never a freeze, dry run or pause): a rollback on sound evidence
   * must not wait for the cooldown of the step that caused it.
   */
  readonly urgent: boolean;
  /** Published for an operator's approval instead of being applied (the security controller's propose mode). */
  readonly requiresApproval: boolean;
}

export interface ControllerOutput<S> {
  /** The next state if the proposal is carried out (or the next state, when there is no proposal). */
  readonly state: S;
  /** The next state if the guardrails hold the proposal back: what was observed is kept, the action is not taken. */
  readonly heldState: S;
  readonly proposal: Proposal | null;
  readonly evidence: Evidence[];
  /** One sentence a person understands: what the controller saw and what it wants. */
  readonly reason: string;
}

export type ControllerFn<S, P> = (
  state: S,
  windows: readonly WindowAggregate[],
  policy: P,
  now: number,
) => ControllerOutput<S>;

/** A controller's result when it has nothing to do. */
export function noAction<S>(state: S, reason: string, evidence: Evidence[] = []): ControllerOutput<S> {
  return { state, heldState: state, proposal: null, evidence, reason };
}
