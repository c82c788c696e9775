import { pruneExpiredLeases } from "@meshloop/contracts";
import type { DesiredState } from "@meshloop/contracts";
import type { DesiredParts } from "../controller.ts";
import { normalizeWeights } from "./weights.ts";

/**
 * The full desired state a decision carries: the last published one, without the leases that ran out, with the
 * winning proposal's parts on top. Never a delta, so an actuator converges from anywhere and a lost decision is
 * healed by the next one.
 */
export function composeDesiredState(
  previous: DesiredState,
  parts: DesiredParts,
  now: number,
  weightFloors: Readonly<Record<string, number>> = {},
): DesiredState {
  const base = pruneExpiredLeases(previous, now);
  const next: DesiredState = { ...base, ...parts, target: previous.target };
  if (next.weights !== null) next.weights = normalizeWeights(next.weights, weightFloors);
  return next;
}

/** Equal content, whatever the key order (weights are records keyed by version). */
export function sameDesiredState(a: DesiredState, b: DesiredState): boolean {
  return canonical(a) === canonical(b);
}

export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
