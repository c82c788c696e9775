export {
  ejectionSettings,
  findAutoscaler,
  findOtherController,
  FOREIGN_CONTROLLERS,
  formatDuration,
  translateReplicas,
} from "@meshloop/actuator-kit";
export type {
  Autoscaler,
  CoexistenceOptions,
  EjectionSettings,
  Failure,
  ForeignController,
  ForeignControllerKind,
  KubeObject,
  ObjectMeta,
  ObjectRef,
  Recommendation,
  UnsupportedPart,
} from "@meshloop/actuator-kit";
export { findEntryController, forWrite, isOwnedEntry, MANAGED_BY_META, MESHLOOP } from "./config-entries.ts";
export type {
  ConfigEntry,
  ConfigEntryBase,
  FailoverTarget,
  IntentionSource,
  PassiveHealthCheck,
  RouteDestination,
  ServiceDefaults,
  ServiceIntentions,
  ServiceResolver,
  ServiceRoute,
  ServiceRouter,
  ServiceSplit,
  ServiceSplitter,
  UpstreamLimits,
  UpstreamOverride,
} from "./config-entries.ts";
export type { Caller, ConsulContext } from "./context.ts";
export { canonicalize, renderGitops } from "./gitops.ts";
export type { GitopsFile, GitopsOutput } from "./gitops.ts";
export { entryRef } from "./translate/entries.ts";
export { instanceRate, mergeCallerDefaults, mergeTargetRateLimit, passiveHealthCheck, upstreamLimits } from "./translate/service-defaults.ts";
export type { UpstreamPlan } from "./translate/service-defaults.ts";
export { consulServiceName, DENIED_META_PREFIX, mergeIntentions } from "./translate/service-intentions.ts";
export type { IntentionsResult } from "./translate/service-intentions.ts";
export { failoverTargets, mergeResolver, subsetFilter } from "./translate/service-resolver.ts";
export type { ResolverPlan } from "./translate/service-resolver.ts";
export { mergeRouter } from "./translate/service-router.ts";
export type { RouterPlan, RouterResult } from "./translate/service-router.ts";
export { mergeSplitter, splits } from "./translate/service-splitter.ts";
export type { Weighted } from "./translate/service-splitter.ts";
export { translateConsul } from "./translate/translate.ts";
export { emptyTranslation } from "./translation.ts";
export type { ConsulWrite, EntryRef, Refusal, Translation } from "./translation.ts";
export { ConsulClient } from "./api/consul-client.ts";
export type { ConsulClientOptions, ConsulLogger, EntryScope, StoredEntry } from "./api/consul-client.ts";
export { ConsulApiError } from "./api/consul-errors.ts";
export { applyConsul } from "./apply/apply-consul.ts";
export type { ConsulApplyOptions } from "./apply/apply-consul.ts";
export type { ConsulApplyOutcome } from "./apply/outcome.ts";
export { readConsulContext } from "./apply/read-context.ts";
export type { ConsulReadOptions } from "./apply/read-context.ts";
