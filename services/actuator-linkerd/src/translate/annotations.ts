import type { RetryCondition, RetryPolicy } from "@meshloop/contracts";
import { FIELD_MANAGER, formatDuration } from "@meshloop/actuator-kit";
import type { EjectionSettings, KubeObject, ManagedFieldsEntry } from "@meshloop/actuator-kit";

/**
 * Retries, timeouts and failure accrual in Linkerd are annotations on the Service, string values with units. They are
 * written by server-side apply of the annotations alone: annotations are a granular map, so meshloop owns only its
 * keys, and a key it applied before and leaves out now is removed by the API server rather than left stale.
 */
export const RETRY_HTTP = "retry.linkerd.io/http";
export const RETRY_GRPC = "retry.linkerd.io/grpc";
export const RETRY_LIMIT = "retry.linkerd.io/limit";
export const RETRY_TIMEOUT = "retry.linkerd.io/timeout";
export const REQUEST_TIMEOUT = "timeout.linkerd.io/request";
export const FAILURE_ACCRUAL = "balancer.linkerd.io/failure-accrual";
export const MAX_FAILURES = "balancer.linkerd.io/failure-accrual-consecutive-max-failures";
export const MIN_PENALTY = "balancer.linkerd.io/failure-accrual-consecutive-min-penalty";
export const MAX_PENALTY = "balancer.linkerd.io/failure-accrual-consecutive-max-penalty";

const RETRY_KEYS = [RETRY_HTTP, RETRY_GRPC, RETRY_LIMIT, RETRY_TIMEOUT];

const HTTP_CONDITIONS: Partial<Record<RetryCondition, string>> = { "5xx": "5xx", "gateway-error": "gateway-error" };
const GRPC_CONDITIONS: Partial<Record<RetryCondition, string>> = {
  cancelled: "cancelled",
  "deadline-exceeded": "deadline-exceeded",
  "resource-exhausted": "resource-exhausted",
  unavailable: "unavailable",
};
// Linkerd's default maximum penalty; kept unless the base ejection time is already longer.
const DEFAULT_MAX_PENALTY_MS = 60_000;

export interface RetryAnnotations {
  annotations: Record<string, string>;
  /** Conditions Linkerd has no annotation value for. */
  dropped: RetryCondition[];
}

export function retryAnnotations(policy: RetryPolicy): RetryAnnotations {
  const annotations: Record<string, string> = { [RETRY_LIMIT]: String(policy.attempts) };
  const dropped: RetryCondition[] = [];
  if (policy.attempts === 0) return { annotations, dropped };
  const http: string[] = [];
  const grpc: string[] = [];
  for (const condition of policy.retryOn) {
    if (condition === "retriable-status-codes") continue;
    const h = HTTP_CONDITIONS[condition];
    const g = GRPC_CONDITIONS[condition];
    if (h !== undefined) http.push(h);
    else if (g !== undefined) grpc.push(g);
    else dropped.push(condition);
  }
  http.push(...[...new Set(policy.retriableStatusCodes)].sort((a, b) => a - b).map(String));
  if (http.length > 0) annotations[RETRY_HTTP] = http.join(",");
  if (grpc.length > 0) annotations[RETRY_GRPC] = grpc.join(",");
  if (policy.perTryTimeoutMs !== null) annotations[RETRY_TIMEOUT] = formatDuration(policy.perTryTimeoutMs);
  return { annotations, dropped };
}

/**
 * Failure accrual counts consecutive failures and backs off from the minimum penalty to the maximum: the base
 * ejection time is the first penalty. Linkerd has no interval and no cap on the share of endpoints in penalty.
 */
export function failureAccrualAnnotations(settings: EjectionSettings): Record<string, string> {
  return {
    [FAILURE_ACCRUAL]: "consecutive",
    [MAX_FAILURES]: String(settings.consecutive5xx),
    [MIN_PENALTY]: formatDuration(settings.baseEjectionTimeMs),
    [MAX_PENALTY]: formatDuration(Math.max(settings.baseEjectionTimeMs, DEFAULT_MAX_PENALTY_MS)),
  };
}

/** The apply body for the Service: only meshloop's annotations, so nothing else of the Service becomes meshloop's. */
export function serviceAnnotationsPatch(service: KubeObject, annotations: Record<string, string>): KubeObject & { metadata: { annotations: Record<string, string> } } {
  const sorted = Object.fromEntries(Object.entries(annotations).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: service.metadata?.name ?? "", namespace: service.metadata?.namespace ?? "", annotations: sorted },
  };
}

/** Whether meshloop applied to this object before (then an empty apply is how its keys are released). */
export function appliedBefore(managedFields: readonly ManagedFieldsEntry[] | undefined): boolean {
  return (managedFields ?? []).some((m) => m.manager === FIELD_MANAGER && m.operation === "Apply");
}

/** Retry annotations on a route override all of the Service's: routes that carry their own are named. */
export function hasOwnRetryAnnotations(annotations: Record<string, string> | undefined): boolean {
  return RETRY_KEYS.some((k) => annotations?.[k] !== undefined) || annotations?.[REQUEST_TIMEOUT] !== undefined;
}
