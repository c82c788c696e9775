export { findAutoscaler, findOtherController, FOREIGN_CONTROLLERS } from "./coexistence.ts";
export type { Autoscaler, CoexistenceOptions, ForeignController, ForeignControllerKind } from "./coexistence.ts";
export type { IstioContext } from "./context.ts";
export { canonicalize, renderGitops } from "./gitops.ts";
export type { GitopsFile, GitopsOptions, GitopsOutput } from "./gitops.ts";
export { FIELD_MANAGER, isOwnedByMeshloop, MANAGED_BY_LABEL, MESHLOOP, ownedName } from "./kube.ts";
export type { KubeObject, ManagedFieldsEntry, ObjectMeta, ObjectRef, OwnerReference } from "./kube.ts";
export { DENIED_CALLERS_ANNOTATION, denyPolicy, denyPolicyName, istioPrincipal } from "./translate/authorization-policy.ts";
export {
  connectionPool,
  ISTIO_DEFAULT_OUTLIER_DETECTION,
  localityLbSetting,
  mergeDestinationRule,
  newDestinationRule,
  outlierDetection,
} from "./translate/destination-rule.ts";
export type { PolicyPlan, TrafficPolicy } from "./translate/destination-rule.ts";
export { formatDuration } from "./translate/durations.ts";
export { ejectionSettings } from "./translate/ejection.ts";
export type { EjectionSettings } from "./translate/ejection.ts";
export { rateLimitFilter, rateLimitFilterName, tokenBucket } from "./translate/envoy-filter.ts";
export type { TokenBucket } from "./translate/envoy-filter.ts";
export { translateReplicas } from "./translate/replicas.ts";
export { supportsRetryBudget, translateIstio } from "./translate/translate.ts";
export {
  istioRetries,
  MESHLOOP_ROUTE,
  mergeVirtualService,
  newVirtualService,
  referencedSubsets,
  sameHost,
} from "./translate/virtual-service.ts";
export type { HttpRetry, HttpRoute, MergeResult, RoutePlan } from "./translate/virtual-service.ts";
export { emptyTranslation } from "./translation.ts";
export type { Failure, KubeWrite, Recommendation, Refusal, Translation, UnsupportedPart } from "./translation.ts";
export { validateIstioObject } from "./validate.ts";
