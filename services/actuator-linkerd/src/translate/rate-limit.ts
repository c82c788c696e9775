import type { TargetRef } from "@meshloop/contracts";
import { MANAGED_BY_LABEL, MESHLOOP, ownedName } from "@meshloop/actuator-kit";
import type { HTTPLocalRateLimitPolicy, LinkerdServer } from "../linkerd-objects.ts";

/**
 * Linkerd's admission control: an HTTPLocalRateLimitPolicy on the Server of the target's pods. Each pod's proxy
 * enforces the limit on its own, so the service's rate is divided by its endpoints; the API takes whole requests.
 */
export function rateLimitPolicyName(target: TargetRef): string {
  return ownedName(target.service, "ratelimit");
}

export interface ProxyRate {
  requestsPerSecond: number;
  /** The service-wide rate that results, for saying so when rounding changed it. */
  effective: number;
}

export function proxyRate(serviceRate: number, endpoints: number | null): ProxyRate {
  const n = Math.max(1, endpoints ?? 1);
  const perProxy = Math.max(1, Math.round(serviceRate / n));
  return { requestsPerSecond: perProxy, effective: perProxy * n };
}

export function rateLimitPolicy(target: TargetRef, server: LinkerdServer, requestsPerSecond: number): HTTPLocalRateLimitPolicy {
  return {
    apiVersion: "policy.linkerd.io/v1alpha1",
    kind: "HTTPLocalRateLimitPolicy",
    metadata: { name: rateLimitPolicyName(target), namespace: target.namespace, labels: { [MANAGED_BY_LABEL]: MESHLOOP } },
    spec: {
      targetRef: { group: "policy.linkerd.io", kind: "Server", name: server.metadata?.name ?? "" },
      total: { requestsPerSecond },
    },
  };
}
