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

/** meshloop's record of the original in an object's annotation, parsed: field name to original (absent: no key). */
export function originals(object: { metadata?: { annotations?: Record<string, string> } } | undefined): Record<string, { original?: unknown }> {
  const text = object?.metadata?.annotations?.["meshloop.io/original"];
  if (text === undefined) throw new Error(`no meshloop.io/original annotation on ${JSON.stringify(object?.metadata)}`);
  const fields = (JSON.parse(text) as { fields: Record<string, { original?: unknown; written: string }> }).fields;
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, "original" in v ? { original: v.original } : {}]));
}

/** A copy without meshloop's record, for comparing the rest of an object with an expected one. */
export function withoutRecord<T extends { metadata?: { annotations?: Record<string, string> } }>(object: T): T {
  const copy = structuredClone(object);
  const annotations = copy.metadata?.annotations;
  if (annotations !== undefined) {
    delete annotations["meshloop.io/original"];
    if (Object.keys(annotations).length === 0) delete copy.metadata!.annotations;
  }
  return copy;
}
