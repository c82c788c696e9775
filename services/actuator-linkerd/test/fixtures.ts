// Desired states and cluster reads for the tests to start from and change one part at a time.
import { emptyDesiredState } from "@meshloop/contracts";
import type { DesiredState } from "@meshloop/contracts";
import type { KubeWrite, LinkerdContext } from "../src/index.ts";

export const NOW = Date.parse("2025-05-01T12:00:00Z");
export const LATER = "2025-05-01T13:00:00Z";
export const EARLIER = "2025-05-01T11:00:00Z";
export const MANAGED = { "app.kubernetes.io/managed-by": "meshloop" };

export function state(parts: Partial<Omit<DesiredState, "target">> = {}): DesiredState {
  return { ...emptyDesiredState({ mesh: "linkerd", namespace: "shop", service: "checkout" }), ...parts };
}

/** The target on port 8080; every Service in `backendServices` on 8080 too, unless `backendPorts` says otherwise. */
export function context(overrides: Partial<LinkerdContext> = {}): LinkerdContext {
  const backendServices = overrides.backendServices ?? ["checkout", "checkout-v1", "checkout-v2"];
  return {
    nowMs: NOW,
    service: { apiVersion: "v1", kind: "Service", metadata: { name: "checkout", namespace: "shop", resourceVersion: "5" }, spec: { ports: [{ port: 8080 }] } },
    backendServices,
    backendPorts: Object.fromEntries(backendServices.map((name) => [name, [{ port: 8080 }]])),
    httpRoutes: [],
    serviceProfile: null,
    server: null,
    authorizationPolicies: [],
    meshTLSAuthentications: [],
    rateLimitPolicy: null,
    allowListFromObservedCallers: false,
    observedCallers: [],
    workloadSelector: { app: "checkout" },
    targetPort: 8080,
    endpoints: 4,
    workload: null,
    autoscalers: [],
    ...overrides,
  };
}

/** The object of a written resource. */
export function objectOf(write: KubeWrite | undefined): unknown {
  if (write === undefined || write.action === "delete" || write.action === "scale") throw new Error(`no object in ${JSON.stringify(write)}`);
  return write.object;
}
