import type { CapabilityPart } from "@meshloop/contracts";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import { findOtherController, refOf } from "@meshloop/actuator-kit";
import type { KubeObject, Translation } from "@meshloop/actuator-kit";
import type { IstioContext } from "../context.ts";
import { validateIstioObject } from "../validate.ts";

// How the translation queues its writes: checked against Istio's schema, and for a release, only where no other
// controller would take the object back.

/** Checks the object against Istio's schema before it is queued; a failing one is reported, never sent. */
export function write(out: Translation, action: "apply" | "update", object: KubeObject, capabilities: CapabilityPart[]): boolean {
  const problem = validateIstioObject(object);
  if (problem !== null) {
    const ref = refOf(object);
    out.failed.push({ capabilities, reason: `${ref.kind} ${ref.namespace}/${ref.name} does not pass Istio's schema: ${problem}` });
    return false;
  }
  out.resources.push({ action, object });
  return true;
}

/**
 * Puts a user's object back as meshloop found it (a release). Another controller's object is not written even to
 * undo meshloop's change: it is reported refused, so the operator knows what stays.
 */
export function release(out: Translation, existing: KubeObject, restored: { object: KubeObject; notes: string[] } | null, context: IstioContext): void {
  if (restored === null) return;
  const other = findOtherController(existing.metadata, context.coexistence);
  if (other !== null) {
    out.refused.push({ ref: refOf(existing), capabilities: [], reason: `meshloop's changes to it are not undone: ${other.reason}` });
    return;
  }
  out.warnings.push(...restored.notes);
  write(out, "update", restored.object, []);
}

/** The target's mesh VirtualService as this translation leaves it: the one it writes, none if it deletes it, else as read. */
export function routingAfter(out: Translation, context: IstioContext): IVirtualService | null {
  for (const w of out.resources) {
    if ((w.action === "apply" || w.action === "update") && w.object.kind === "VirtualService") return w.object as IVirtualService;
    if (w.action === "delete" && w.ref.kind === "VirtualService") return null;
  }
  return context.virtualService;
}
