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
export type { LinkerdContext } from "./context.ts";
export type {
  HTTPLocalRateLimitPolicy,
  LinkerdAuthorizationPolicy,
  LinkerdServer,
  MeshTLSAuthentication,
  PolicyRef,
  ServicePort,
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
export { backendPort, describePort, withBackendPorts } from "./translate/backend-ports.ts";
export { chooseRoute, mergeHttpRoute, newHttpRoute, recordRuleMerge, restoreHttpRoute } from "./translate/http-route.ts";
export type { Backend, RouteChoice } from "./translate/http-route.ts";
export { identityPatternMatches, linkerdIdentity, parseIdentity } from "./translate/identities.ts";
export type { Workload } from "./translate/identities.ts";
export { proxyRate, rateLimitPolicy, rateLimitPolicyName } from "./translate/rate-limit.ts";
export type { ProxyRate } from "./translate/rate-limit.ts";
export { translateLinkerd } from "./translate/translate.ts";
export { validateHttpRoute } from "./validate.ts";
