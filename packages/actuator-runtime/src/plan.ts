import type { ActuationResult, Decision } from "@meshloop/contracts";
import type { ApplyOutcome } from "./applier.ts";

export type Plan =
  | { readonly action: "skip"; readonly outcome: ApplyOutcome }
  | { readonly action: "apply"; readonly mode: "apply" | "dry-run" };

/**
 * What to do with a decision, before any I/O: a generation not above the last one applied for the target is stale
 * (a replay, a duplicate, or overtaken by a newer decision), whatever its content; a proposal that needs approval
 * waits for the operator's approval, which comes as a newer decision; a dry-run decision, or an actuator running in
 * dry-run mode, is checked but not applied.
 */
export function planFor(decision: Decision, lastApplied: number, serviceMode: "apply" | "dry-run"): Plan {
  if (decision.generation <= lastApplied) {
    return skip("stale", `generation ${decision.generation} is not newer than ${lastApplied}, applied already`);
  }
  if (decision.requiresApproval && decision.approvedBy === undefined) {
    return skip("awaiting-approval", "the decision needs an operator's approval (meshloop approve) before it is applied");
  }
  return { action: "apply", mode: decision.dryRun || serviceMode === "dry-run" ? "dry-run" : "apply" };
}

function skip(status: "stale" | "awaiting-approval", reason: string): Plan {
  return { action: "skip", outcome: { status, reason, resources: [], unsupported: [] } };
}

/** The published result: the outcome with the decision's identity, keyed like the decision. */
export function actuationResult(decision: Decision, outcome: ApplyOutcome, observedAt: Date): ActuationResult {
  return {
    decisionId: decision.decisionId,
    target: decision.target,
    generation: decision.generation,
    mesh: decision.target.mesh,
    status: outcome.status,
    reason: outcome.reason,
    resources: outcome.resources,
    unsupported: outcome.unsupported,
    ...(outcome.status === "applied" ? { appliedAt: outcome.appliedAt ?? observedAt.toISOString() } : {}),
    observedAt: observedAt.toISOString(),
  };
}

/**
 * Whether a decision was carried out for good, so that a redelivery of it is stale rather than applied again. A dry
 * run is not: when the actuator is switched to apply, the same decision must still be applicable.
 */
export function settles(outcome: ApplyOutcome): boolean {
  return outcome.status === "applied" || outcome.status === "unsupported" || outcome.status === "refused";
}
