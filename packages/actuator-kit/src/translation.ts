import type { CapabilityPart } from "@meshloop/contracts";
import type { KubeObject, ObjectRef } from "./kube.ts";

/** The write every actuator can make, whatever its mesh: the Kubernetes workload's `scale` subresource. */
export interface ScaleWrite {
  action: "scale";
  ref: ObjectRef;
  replicas: number;
}

/**
 * One change to the cluster, in the form the apply layer needs to make it without clobbering anyone:
 * - `apply`: server-side apply with field manager `meshloop`. Used for objects meshloop owns (the whole object) and,
 *   `partial`, for granular maps of others' objects (only meshloop's keys, e.g. a Service's annotations).
 * - `update`: a plain update of an object meshloop does not own, read, changed only in meshloop's fields, carrying
 *   the `resourceVersion` it was read at (a precondition: a 409 means re-read and translate again). Server-side apply
 *   is wrong here because Istio's `http[]` and `subsets[]` are atomic lists that apply would replace whole.
 * - `delete`: an object meshloop owns and no longer needs.
 * - `scale`: the workload's `scale` subresource.
 */
export type KubeWrite =
  | { action: "apply"; object: KubeObject; partial?: boolean }
  | { action: "update"; object: KubeObject }
  | { action: "delete"; ref: ObjectRef }
  | ScaleWrite;

export interface UnsupportedPart {
  capability: CapabilityPart;
  reason: string;
}

/**
 * An object another controller manages; meshloop leaves it alone and says so (status `refused`). `Ref` is how the
 * mesh names what it writes: a Kubernetes object by default, or e.g. a Consul config entry as well.
 */
export interface Refusal<Ref = ObjectRef> {
  ref: Ref;
  /** The desired-state parts that could not be carried out because of it. */
  capabilities: CapabilityPart[];
  reason: string;
}

/**
 * A part the mesh could carry out but not in this cluster as it is now (status `failed`, with the reason). Parts are
 * independent: the other parts' resources are still written, and the result lists this one as failed.
 */
export interface Failure {
  capabilities: CapabilityPart[];
  reason: string;
  /** The object the parts would have been written to, when there is one, for the result to name. */
  ref?: { kind: string; name: string; namespace?: string };
}

/** Replicas meshloop publishes instead of applying, because an autoscaler owns the count or the policy says so. */
export interface Recommendation {
  capability: "replicas";
  ref: ObjectRef | null;
  replicas: number;
  reason: string;
}

/**
 * What a target's desired state becomes in one mesh. `resources` are in the order to apply them (make before break:
 * subsets exist before routes name them). Everything asked for that is not in `resources` is accounted for in one
 * of the other lists, so nothing is ever reported as applied that was not. `resources` hold only what can be written
 * whatever became of the parts in `failed` (a failed part writes nothing, and nothing written depends on it), so the
 * appliers write them even when something failed, and report the failure. `Write` is the mesh's form of a change:
 * Kubernetes writes by default; a mesh configured through another API has its own, with `ScaleWrite` among them.
 */
export interface Translation<Write = KubeWrite, Ref = ObjectRef> {
  resources: Write[];
  unsupported: UnsupportedPart[];
  refused: Refusal<Ref>[];
  failed: Failure[];
  recommendations: Recommendation[];
  /** Carried out, with a caveat an operator should know (a rounded value, a user setting that shadows meshloop's). */
  warnings: string[];
}

export function emptyTranslation<Write = KubeWrite, Ref = ObjectRef>(): Translation<Write, Ref> {
  return { resources: [], unsupported: [], refused: [], failed: [], recommendations: [], warnings: [] };
}
