/**
 * The little of Kubernetes' object model the translation needs: metadata as the API server returns it, and the
 * marks that say which objects meshloop owns. Kept minimal and structural so that objects read with any client fit.
 */
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MESHLOOP = "meshloop";
/** meshloop's field manager for server-side apply; also how it recognises its own entries in managedFields. */
export const FIELD_MANAGER = "meshloop";

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid?: string;
  controller?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  subresource?: string;
  time?: string;
}

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: readonly OwnerReference[];
  managedFields?: readonly ManagedFieldsEntry[];
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

/** Any Kubernetes object as read from or sent to the API server. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata?: ObjectMeta;
}

export function isOwnedByMeshloop(metadata: ObjectMeta | undefined): boolean {
  return metadata?.labels?.[MANAGED_BY_LABEL] === MESHLOOP;
}

export function refOf(object: KubeObject): ObjectRef {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    namespace: object.metadata?.namespace ?? "",
    name: object.metadata?.name ?? "",
  };
}

/** A deep copy of plain JSON data; objects read from the API are never mutated in place. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Names of the objects meshloop creates for a target: `<service>-meshloop`, or `<service>-meshloop-<purpose>`. */
export function ownedName(service: string, purpose?: string): string {
  return purpose === undefined ? `${service}-meshloop` : `${service}-meshloop-${purpose}`;
}
