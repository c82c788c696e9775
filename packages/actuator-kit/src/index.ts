export { findAutoscaler, findOtherController, FOREIGN_CONTROLLERS } from "./coexistence.ts";
export type { Autoscaler, CoexistenceOptions, ForeignController, ForeignControllerKind } from "./coexistence.ts";
export { formatDuration } from "./durations.ts";
export { ejectionSettings } from "./ejection.ts";
export type { EjectionSettings } from "./ejection.ts";
export { canonicalize, renderGitops } from "./gitops.ts";
export type { GitopsFile, GitopsOptions, GitopsOutput } from "./gitops.ts";
export { clone, FIELD_MANAGER, isOwnedByMeshloop, MANAGED_BY_LABEL, MESHLOOP, ownedName, refOf } from "./kube.ts";
export type { KubeObject, ManagedFieldsEntry, ObjectMeta, ObjectRef, OwnerReference } from "./kube.ts";
export {
  canonicalJson,
  hasRecord,
  ORIGINAL_ANNOTATION,
  originalAnnotation,
  planRestore,
  recordedFields,
  recordMerge,
  restorationNotes,
  restoreFields,
  setOriginalAnnotation,
} from "./original-record.ts";
export type { FieldAccess, FieldValues, RecordUpdate, Restoration } from "./original-record.ts";
export { translateReplicas } from "./replicas.ts";
export { emptyTranslation } from "./translation.ts";
export type { Failure, KubeWrite, Recommendation, Refusal, ScaleWrite, Translation, UnsupportedPart } from "./translation.ts";
