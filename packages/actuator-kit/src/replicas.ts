import type { Replicas } from "@meshloop/contracts";
import { findAutoscaler, findOtherController } from "./coexistence.ts";
import type { Autoscaler, CoexistenceOptions } from "./coexistence.ts";
import { refOf } from "./kube.ts";
import type { KubeObject, ObjectRef } from "./kube.ts";
import type { ScaleWrite, Translation } from "./translation.ts";

const SCALABLE = new Set(["Deployment", "StatefulSet"]);

/**
 * Replicas go through the workload's scale subresource, unless an autoscaler owns the count (then meshloop publishes
 * a recommendation and never fights it) or the decision itself asks only for a recommendation. Any mesh's
 * translation takes the result, as long as its writes include `ScaleWrite` and its refusals may name an `ObjectRef`.
 */
export function translateReplicas<Write, Ref>(
  replicas: Replicas | null,
  workload: KubeObject | null,
  autoscalers: readonly Autoscaler[],
  coexistence: CoexistenceOptions | undefined,
  out: Translation<Write | ScaleWrite, Ref | ObjectRef>,
): void {
  if (replicas === null) return;
  if (workload === null || !SCALABLE.has(workload.kind)) {
    const what = workload === null ? "no workload is known for the service" : `${workload.kind} has no scale subresource meshloop uses`;
    out.unsupported.push({ capability: "replicas", reason: `${what}; replicas are scaled through a Deployment's or StatefulSet's scale subresource` });
    return;
  }
  const ref = refOf(workload);
  if (replicas.mode === "recommend") {
    out.recommendations.push({ capability: "replicas", ref, replicas: replicas.count, reason: "the decision recommends replicas without applying them" });
    return;
  }
  const other = findAutoscaler(ref, autoscalers) ?? findOtherController(workload.metadata, coexistence);
  if (other?.controller === "autoscaler") {
    out.recommendations.push({ capability: "replicas", ref, replicas: replicas.count, reason: other.reason });
  } else if (other !== null) {
    out.refused.push({ ref, capabilities: ["replicas"], reason: other.reason });
  } else {
    out.resources.push({ action: "scale", ref, replicas: replicas.count });
  }
}
