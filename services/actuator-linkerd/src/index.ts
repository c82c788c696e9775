export { findAutoscaler, findOtherController, FOREIGN_CONTROLLERS } from "./coexistence.ts";
export type { Autoscaler, CoexistenceOptions, ForeignController, ForeignControllerKind } from "./coexistence.ts";
export type { LinkerdContext } from "./context.ts";
export { canonicalize, renderGitops } from "./gitops.ts";
export type { GitopsFile, GitopsOptions, GitopsOutput } from "./gitops.ts";
export { FIELD_MANAGER, isOwnedByMeshloop, MANAGED_BY_LABEL, MESHLOOP, ownedName } from "./kube.ts";
export type { KubeObject, ManagedFieldsEntry, ObjectMeta, ObjectRef, OwnerReference } from "./kube.ts";
export type {
  HTTPLocalRateLimitPolicy,
  LinkerdAuthorizationPolicy,
  LinkerdServer,
  MeshTLSAuthentication,
  PolicyRef,
  TargetService,
} from "./linkerd-objects.ts";
export {
  appliedBefore,
  FAILURE_ACCRUAL,
  failureAccrualAnnotations,
  MAX_FAILURES,
  MAX_PENALTY,
  MIN_PENALTY,
  REQUEST_TIMEOUT,
  RETRY_GRPC,
  RETRY_HTTP,
  RETRY_LIMIT,
  RETRY_TIMEOUT,
  retryAnnotations,
  serviceAnnotationsPatch,
} from "./translate/annotations.ts";
export type { RetryAnnotations } from "./translate/annotations.ts";
export { REMOVED_ANNOTATION, translateAuthorization } from "./translate/authorization.ts";
export { formatDuration } from "./translate/durations.ts";
export { ejectionSettings } from "./translate/ejection.ts";
export type { EjectionSettings } from "./translate/ejection.ts";
export { chooseRoute, mergeHttpRoute, newHttpRoute } from "./translate/http-route.ts";
export type { Backend, RouteChoice } from "./translate/http-route.ts";
export { identityPatternMatches, linkerdIdentity, parseIdentity } from "./translate/identities.ts";
export type { Workload } from "./translate/identities.ts";
export { proxyRate, rateLimitPolicy, rateLimitPolicyName } from "./translate/rate-limit.ts";
export type { ProxyRate } from "./translate/rate-limit.ts";
export { translateReplicas } from "./translate/replicas.ts";
export { translateLinkerd } from "./translate/translate.ts";
export { emptyTranslation } from "./translation.ts";
export type { Failure, KubeWrite, Recommendation, Refusal, Translation, UnsupportedPart } from "./translation.ts";
export { validateHttpRoute } from "./validate.ts";
