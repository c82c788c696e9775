// Desired states and cluster reads for the tests to start from and change one part at a time.
import { emptyDesiredState } from "@meshloop/contracts";
import type { DesiredState } from "@meshloop/contracts";
import type { IstioContext, KubeWrite } from "../src/index.ts";

export const NOW = Date.parse("2025-05-01T12:00:00Z");
export const LATER = "2025-05-01T13:00:00Z";
export const EARLIER = "2025-05-01T11:00:00Z";

export function state(parts: Partial<Omit<DesiredState, "target">> = {}): DesiredState {
  return { ...emptyDesiredState({ mesh: "istio", namespace: "shop", service: "checkout" }), ...parts };
}

export function context(overrides: Partial<IstioContext> = {}): IstioContext {
  return {
    nowMs: NOW,
    workloadSelector: { app: "checkout" },
    endpoints: 4,
    mtlsStrict: true,
    virtualService: null,
    destinationRule: null,
    authorizationPolicy: null,
    envoyFilter: null,
    workload: null,
    autoscalers: [],
    ...overrides,
  };
}

export const MANAGED = { "app.kubernetes.io/managed-by": "meshloop" };

/** The spec of a written object, for comparing with an expected one. */
export function specOf(write: KubeWrite | undefined): unknown {
  if (write === undefined || write.action === "delete" || write.action === "scale") throw new Error(`no object in ${JSON.stringify(write)}`);
  return (write.object as unknown as { spec: unknown }).spec;
}
