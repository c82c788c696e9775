export {
  canonicalize,
  ejectionSettings,
  emptyTranslation,
  FIELD_MANAGER,
  findAutoscaler,
  findOtherController,
  FOREIGN_CONTROLLERS,
  formatDuration,
  isOwnedByMeshloop,
  MANAGED_BY_LABEL,
  MESHLOOP,
  ORIGINAL_ANNOTATION,
  ownedName,
  renderGitops,
  translateReplicas,
} from "@meshloop/actuator-kit";
export type {
  Autoscaler,
  CoexistenceOptions,
  EjectionSettings,
  Failure,
  ForeignController,
  ForeignControllerKind,
  GitopsFile,
  GitopsOptions,
  GitopsOutput,
  KubeObject,
  KubeWrite,
  ManagedFieldsEntry,
  ObjectMeta,
  ObjectRef,
  OwnerReference,
  Recommendation,
  Refusal,
  Translation,
  UnsupportedPart,
} from "@meshloop/actuator-kit";
export type { IstioContext } from "./context.ts";
export { DENIED_CALLERS_ANNOTATION, denyPolicy, denyPolicyName, istioPrincipal } from "./translate/authorization-policy.ts";
export {
  connectionPool,
  ISTIO_DEFAULT_OUTLIER_DETECTION,
  localityLbSetting,
  mergeDestinationRule,
  newDestinationRule,
  outlierDetection,
  restoreDestinationRule,
} from "./translate/destination-rule.ts";
export type { PolicyPlan, TrafficPolicy } from "./translate/destination-rule.ts";
export { rateLimitFilter, rateLimitFilterName, tokenBucket } from "./translate/envoy-filter.ts";
export type { TokenBucket } from "./translate/envoy-filter.ts";
export { supportsRetryBudget, translateIstio } from "./translate/translate.ts";
export {
  istioRetries,
  MESHLOOP_ROUTE,
  mergeVirtualService,
  newVirtualService,
  referencedSubsets,
  restoreVirtualService,
  sameHost,
} from "./translate/virtual-service.ts";
export type { HttpRetry, HttpRoute, MergeResult, RoutePlan } from "./translate/virtual-service.ts";
export { validateIstioObject } from "./validate.ts";
