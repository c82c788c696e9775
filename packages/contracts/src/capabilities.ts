import { z } from "zod";
import type { DesiredState } from "./desired-state.ts";
import type { Mesh } from "./target.ts";

/**
 * What each mesh can carry out of a desired state, and through which API. The decision engine consults it before
 * deciding (no ejecting a chosen instance where that cannot happen), actuators report against it. Facts from the
 * meshes' APIs as of Istio 1.27+, Linkerd 2.16+ and Consul 1.15+ (see shared/reference/mesh-apis.md).
 */
export const CAPABILITY_PARTS = [
  "weights",
  "retries",
  "retryBudget",
  "requestTimeout",
  "connectionLimits",
  "ejectionTuning",
  "ejectChosenInstance",
  "replicas",
  "localityFailover",
  "rateLimit",
  "denyCaller",
] as const;
export const capabilityPartSchema = z.enum(CAPABILITY_PARTS);
export type CapabilityPart = z.infer<typeof capabilityPartSchema>;

export type Capability =
  | { readonly support: "native"; readonly how: string }
  | { readonly support: "partial"; readonly how: string; readonly limits: string }
  | { readonly support: "unsupported"; readonly reason: string };

const CHOSEN_INSTANCE =
  "the proxies' own outlier detection picks which endpoints to eject; no API ejects a chosen one, " +
  "so meshloop tightens the ejection settings instead";

// Mesh independent on Kubernetes, hence the same entry for the three real meshes (Consul only on Kubernetes).
const KUBERNETES_REPLICAS = {
  support: "partial",
  how: "the workload's scale subresource (Deployment/StatefulSet .../scale)",
  limits: "recommend only when an HPA or KEDA ScaledObject targets the workload",
} as const satisfies Capability;

export const CAPABILITIES: Readonly<Record<Mesh, Readonly<Record<CapabilityPart, Capability>>>> = {
  istio: {
    weights: { support: "native", how: "VirtualService http[].route[].weight with DestinationRule subsets" },
    retries: { support: "native", how: "VirtualService http[].retries {attempts, perTryTimeout, retryOn}" },
    retryBudget: {
      support: "partial",
      how: "DestinationRule trafficPolicy.retryBudget {percent, minRetryConcurrency}",
      limits: "only Istio versions with trafficPolicy.retryBudget (1.27+); its floor is concurrent retries, not a rate",
    },
    requestTimeout: { support: "native", how: "VirtualService http[].timeout" },
    connectionLimits: {
      support: "native",
      how:
        "DestinationRule trafficPolicy.connectionPool tcp.maxConnections, " +
        "http.http1MaxPendingRequests, http.http2MaxRequests, http.maxRetries",
    },
    ejectionTuning: { support: "native", how: "DestinationRule trafficPolicy.outlierDetection" },
    ejectChosenInstance: { support: "unsupported", reason: `Istio: ${CHOSEN_INSTANCE}` },
    replicas: KUBERNETES_REPLICAS,
    localityFailover: {
      support: "partial",
      how: "DestinationRule trafficPolicy.loadBalancer.localityLbSetting {failover[], distribute[]}",
      limits:
        "failover is region to region with one `to` per `from`: ordered lists and zone targets cannot be expressed; " +
        "it needs outlierDetection",
    },
    rateLimit: {
      support: "partial",
      how: "EnvoyFilter adding envoy.filters.http.local_ratelimit to the service's sidecars",
      limits: "enforced per proxy (the service rate is split over replicas); EnvoyFilter is not a stable API",
    },
    denyCaller: {
      support: "partial",
      how: "AuthorizationPolicy action DENY, rules[].from[].source.principals",
      limits:
        "needs STRICT mTLS to be complete: under PERMISSIVE mTLS a DENY by principal does not match callers that " +
        "connect in plaintext",
    },
  },
  linkerd: {
    weights: {
      support: "native",
      how: "Gateway API HTTPRoute rules[].backendRefs[].weight over one Service per version",
    },
    retries: {
      support: "partial",
      how: "retry.linkerd.io/http, /grpc, /limit and /timeout annotations on the Service or route",
      limits: "conditions are 5xx, gateway-error, status ranges and gRPC codes; ignored while a ServiceProfile exists",
    },
    retryBudget: {
      support: "unsupported",
      reason:
        "Linkerd's retry budget exists only in ServiceProfile, and a ServiceProfile makes the proxies ignore " +
        "the annotations and HTTPRoutes meshloop writes",
    },
    requestTimeout: { support: "native", how: "HTTPRoute rules[].timeouts.request (or timeout.linkerd.io/request)" },
    connectionLimits: {
      support: "unsupported",
      reason: "Linkerd has no connection-pool limits; its admission control is HTTPLocalRateLimitPolicy (rateLimit)",
    },
    ejectionTuning: {
      support: "partial",
      how:
        "balancer.linkerd.io/failure-accrual: consecutive, with the -consecutive-max-failures, -min-penalty " +
        "and -max-penalty annotations",
      limits:
        "counts consecutive failures of any kind; no interval and no maximum ejection share; failure accrual is " +
        "ignored while a ServiceProfile exists",
    },
    ejectChosenInstance: { support: "unsupported", reason: `Linkerd: ${CHOSEN_INSTANCE}` },
    replicas: KUBERNETES_REPLICAS,
    localityFailover: { support: "unsupported", reason: "Linkerd has no locality failover of its own" },
    rateLimit: {
      support: "partial",
      how: "HTTPLocalRateLimitPolicy (policy.linkerd.io/v1alpha1) targeting the Server",
      limits: "enforced by each pod's proxy (the service rate is split over replicas); needs a Server for the port",
    },
    denyCaller: {
      support: "partial",
      how: "remove the identity from the MeshTLSAuthentication an AuthorizationPolicy of the Server requires",
      limits:
        "authorization is an allow list: needs an existing one (or permission to build one, which denies every caller " +
        "not on it); wildcard entries and a permissive Server accessPolicy defeat it",
    },
  },
  consul: {
    weights: {
      support: "native",
      how: "service-splitter Splits[].Weight with service-resolver Subsets (HTTP protocol in service-defaults)",
    },
    retries: {
      support: "partial",
      how:
        "service-router Routes[].Destination {NumRetries, RetryOn, RetryOnStatusCodes}; RetryOn takes every meshloop " +
        "condition (5xx, gateway-error, reset, connect-failure, cancelled, deadline-exceeded, resource-exhausted, " +
        "unavailable)",
      limits: "no per-try timeout: each try may use the whole request timeout",
    },
    retryBudget: { support: "unsupported", reason: "Consul config entries have no retry budget" },
    requestTimeout: {
      support: "native",
      how: "service-router Routes[].Destination.RequestTimeout (or service-resolver RequestTimeout)",
    },
    connectionLimits: {
      support: "partial",
      how:
        "the callers' service-defaults UpstreamConfig.Overrides[{Name: target}].Limits " +
        "{MaxConnections, MaxPendingRequests, MaxConcurrentRequests}",
      limits: "written into and enforced by each caller, not the target; no retry limit",
    },
    ejectionTuning: {
      support: "partial",
      how: "the callers' service-defaults UpstreamConfig.Overrides[{Name: target}].PassiveHealthCheck",
      limits: "written into and enforced by each caller, not the target",
    },
    ejectChosenInstance: { support: "unsupported", reason: `Consul: ${CHOSEN_INSTANCE}` },
    replicas: {
      ...KUBERNETES_REPLICAS,
      limits: `only with consul-k8s (unsupported on VMs, where there is no workload to scale); ${KUBERNETES_REPLICAS.limits}`,
    },
    localityFailover: {
      support: "partial",
      how: "service-resolver Failover {\"*\": {Targets[]}}",
      limits:
        "needs a mapping from localities to datacenters or peers (or partitions), and the resolver's failover applies " +
        "from every datacenter, not only the source locality; ordered failover only, no weighted distribution",
    },
    rateLimit: {
      support: "partial",
      how: "service-defaults RateLimits.InstanceLevel.RequestsPerSecond",
      limits: "per instance (the service rate is split over instances)",
    },
    denyCaller: { support: "native", how: "service-intentions Sources[{Name: caller, Action: deny}]" },
  },
  lab: {
    weights: { support: "native", how: "lab routing table" },
    retries: { support: "native", how: "lab proxy retry policy" },
    retryBudget: { support: "native", how: "lab proxy retry budget" },
    requestTimeout: { support: "native", how: "lab proxy timeout" },
    connectionLimits: { support: "native", how: "lab proxy limits" },
    // The lab's data plane ejects the instances it is told to; it has no outlier detector of its own to tune.
    ejectionTuning: { support: "partial", how: "lab route table", limits: "the data plane has no outlier detector of its own: the settings are kept, only the chosen instances are ejected" },
    ejectChosenInstance: { support: "native", how: "lab ejects the listed instances until their leases expire" },
    replicas: { support: "native", how: "the lab scales its own instances" },
    localityFailover: { support: "unsupported", reason: "lab: the data plane routes by version and instance, not by locality" },
    rateLimit: { support: "unsupported", reason: "lab: the data plane has no rate limiter" },
    denyCaller: { support: "native", how: "lab proxy deny list" },
  },
};

export function capabilityOf(mesh: Mesh, part: CapabilityPart): Capability {
  return CAPABILITIES[mesh][part];
}

/** The parts a desired state asks for (its non-null parts), in CAPABILITY_PARTS order. */
export function requiredParts(state: DesiredState): CapabilityPart[] {
  const asked: Record<CapabilityPart, boolean> = {
    weights: state.weights !== null,
    retries: state.retries !== null,
    retryBudget: state.retries?.budget != null,
    requestTimeout: state.requestTimeoutMs !== null,
    connectionLimits: state.connectionLimits !== null,
    ejectionTuning: state.ejection !== null,
    ejectChosenInstance: (state.ejection?.ejectInstances.length ?? 0) > 0,
    replicas: state.replicas !== null,
    localityFailover: state.failover !== null,
    rateLimit: state.rateLimit !== null,
    denyCaller: state.deniedCallers.length > 0,
  };
  return CAPABILITY_PARTS.filter((part) => asked[part]);
}

/** The parts of a desired state the mesh cannot carry out at all, with why; partial support is not listed. */
export function unsupportedParts(mesh: Mesh, state: DesiredState): { part: CapabilityPart; reason: string }[] {
  const out: { part: CapabilityPart; reason: string }[] = [];
  for (const part of requiredParts(state)) {
    const capability = CAPABILITIES[mesh][part];
    if (capability.support === "unsupported") out.push({ part, reason: capability.reason });
  }
  return out;
}
