import type { TargetRef } from "@meshloop/contracts";
import { policySchema } from "./schema.ts";
import type { Policy, PolicyInput, Selector } from "./schema.ts";

/**
 * Which policy governs a target: among those whose selector matches (every field it sets equals the target's, every
 * label it lists is on the target), the most specific one: a service beats a namespace beats a mesh, and more labels
 * beat fewer; equal ones go by order (the first file and entry win). No match: the target is not managed.
 */
export function selectPolicy(
  policies: readonly Policy[],
  target: TargetRef,
  labels: Readonly<Record<string, string>> = {},
): Policy | null {
  let best: Policy | null = null;
  let bestScore = -1;
  for (const policy of policies) {
    if (!matches(policy.selector, target, labels)) continue;
    const score = specificity(policy.selector);
    if (score > bestScore) {
      best = policy;
      bestScore = score;
    }
  }
  return best;
}

export function matches(selector: Selector, target: TargetRef, labels: Readonly<Record<string, string>>): boolean {
  if (selector.mesh !== undefined && selector.mesh !== target.mesh) return false;
  if (selector.namespace !== undefined && selector.namespace !== target.namespace) return false;
  if (selector.service !== undefined && selector.service !== target.service) return false;
  for (const [key, value] of Object.entries(selector.labels ?? {})) if (labels[key] !== value) return false;
  return true;
}

function specificity(selector: Selector): number {
  const labels = Object.keys(selector.labels ?? {}).length;
  return (selector.service !== undefined ? 1000 : 0) + (selector.namespace !== undefined ? 100 : 0) + (selector.mesh !== undefined ? 10 : 0) + Math.min(labels, 9);
}

/** A policy with every default, for tests and for `meshloop up`; `overrides` as a policy file would give them. */
export function policyWith(overrides: Omit<PolicyInput, "name"> & { name?: string } = {}): Policy {
  return policySchema.parse({ name: "default", ...overrides });
}
