import type { DeniedCaller } from "@meshloop/contracts";
import { iso } from "./format.ts";

/**
 * Decisions that wait for an operator (the security controller's `propose` mode). Such a decision is published with
 * `requiresApproval`, which actuators never apply, and its change is kept aside here instead of becoming the base of
 * the next desired state: another controller's decision meanwhile must not carry an unapproved denial. `approve`
 * makes the decision service publish the change as a new decision with a new generation (an actuator never sees an
 * approval as stale); `reject` drops it and keeps its callers from being proposed again for the lease time.
 */

export interface AwaitingApproval {
  readonly decisionId: string;
  readonly generation: number;
  readonly reason: string;
  readonly proposedAtMs: number;
  /** The denials proposed (the ones already in force are not repeated here). */
  readonly deniedCallers: readonly DeniedCaller[];
}

export interface RejectedCaller {
  readonly caller: string;
  readonly untilMs: number;
}

/** `namespace/service` of a denied caller, as the security controller names callers. */
export function callerKey(d: DeniedCaller, defaultNamespace: string): string {
  return `${d.namespace ?? defaultNamespace}/${d.service ?? d.identity}`;
}

/** The denied-callers list once an approved proposal is added: leases shifted by the approval delay, deduplicated. */
export function approvedDenials(current: readonly DeniedCaller[], awaiting: AwaitingApproval, approvedAtMs: number, nowMs: number): DeniedCaller[] {
  const delay = Math.max(0, approvedAtMs - awaiting.proposedAtMs);
  const added = awaiting.deniedCallers.map((d) => (d.leaseExpiresAt === undefined ? d : { ...d, leaseExpiresAt: iso(Date.parse(d.leaseExpiresAt) + delay) }));
  const live = current.filter((d) => d.leaseExpiresAt === undefined || Date.parse(d.leaseExpiresAt) > nowMs);
  const identities = new Set(added.map((d) => d.identity));
  return [...live.filter((d) => !identities.has(d.identity)), ...added];
}

/** Rejections still suppressing their callers at `nowMs`. */
export function liveRejections(rejected: readonly RejectedCaller[] | undefined, nowMs: number): RejectedCaller[] {
  return (rejected ?? []).filter((r) => r.untilMs > nowMs);
}

/** The longest lease among the proposal's denials, from its proposal: how long a rejection suppresses its callers. */
export function rejectionUntil(awaiting: AwaitingApproval, rejectedAtMs: number): number {
  const leases = awaiting.deniedCallers.flatMap((d) => (d.leaseExpiresAt === undefined ? [] : [Date.parse(d.leaseExpiresAt) - awaiting.proposedAtMs]));
  return rejectedAtMs + (leases.length === 0 ? 3_600_000 : Math.max(...leases));
}
