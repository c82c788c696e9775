import type { DeniedCaller, TargetRef } from "@meshloop/contracts";
import type { IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import { MANAGED_BY_LABEL, MESHLOOP, ownedName } from "@meshloop/actuator-kit";

/**
 * Isolation: one AuthorizationPolicy of meshloop's own with `action: DENY` naming the denied callers' principals.
 * Istio evaluates DENY before ALLOW, so the user's ALLOW policies need no change, and removing meshloop's policy
 * restores exactly what was allowed before.
 */
export const DENIED_CALLERS_ANNOTATION = "meshloop.io/denied-callers";

export function denyPolicyName(target: TargetRef): string {
  return ownedName(target.service, "deny");
}

/** Istio names peers by `<trust-domain>/ns/<ns>/sa/<sa>`, the SPIFFE id without its scheme. */
export function istioPrincipal(identity: string): string {
  return identity.startsWith("spiffe://") ? identity.slice("spiffe://".length) : identity;
}

export function denyPolicy(target: TargetRef, callers: readonly DeniedCaller[], selector: Record<string, string>): IAuthorizationPolicy {
  const sorted = [...callers].sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
  // Why each caller is denied and until when, for whoever finds the policy; principals alone say neither.
  const record = sorted.map((c) => ({ identity: c.identity, reason: c.reason, ...(c.leaseExpiresAt === undefined ? {} : { leaseExpiresAt: c.leaseExpiresAt }) }));
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: {
      name: denyPolicyName(target),
      namespace: target.namespace,
      labels: { [MANAGED_BY_LABEL]: MESHLOOP },
      annotations: { [DENIED_CALLERS_ANNOTATION]: JSON.stringify(record) },
    },
    spec: {
      selector: { matchLabels: { ...selector } },
      action: "DENY",
      rules: [{ from: [{ source: { principals: [...new Set(sorted.map((c) => istioPrincipal(c.identity)))] } }] }],
    },
  };
}
