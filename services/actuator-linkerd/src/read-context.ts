import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { isOwnedByMeshloop } from "@meshloop/actuator-kit";
import type { Autoscaler, CoexistenceOptions, KubeObject } from "@meshloop/actuator-kit";
import type { TargetRef } from "@meshloop/contracts";
import { MeshloopError } from "@meshloop/errors";
import type { KubeClient } from "@meshloop/kube-client";
import { readTarget } from "@meshloop/kube-client/actuation";
import type { LinkerdContext } from "./context.ts";
import type { HTTPLocalRateLimitPolicy, LinkerdAuthorizationPolicy, LinkerdServer, MeshTLSAuthentication, PolicyRef, ServicePort, TargetService } from "./linkerd-objects.ts";
import { rateLimitPolicyName } from "./translate/rate-limit.ts";

export interface LinkerdReadOptions {
  /** The cluster's DNS domain, which ends a ServiceProfile's name; default `cluster.local`. */
  readonly clusterDomain?: string;
  /** The mesh identity trust domain; default `cluster.local`. */
  readonly trustDomain?: string;
  /** The policy allows building an allow list from observed callers where the target has none; default false. */
  readonly allowListFromObservedCallers?: boolean;
  readonly coexistence?: CoexistenceOptions;
}

/** The decision names a Service the cluster does not have: nothing can be translated for it. */
export class TargetServiceMissingError extends MeshloopError {
  constructor(target: TargetRef) {
    // Not retriable: re-reading within one decision's backoff will not make a Service appear; the next decision reads again.
    super(`Service ${target.namespace}/${target.service} does not exist`, { retriable: false, context: { namespace: target.namespace, service: target.service } });
  }
}

const POLICY = "policy.linkerd.io/v1alpha1";
type Routed = IHTTPRoute & { kind: string };
interface Container {
  ports?: { name?: string; containerPort: number }[];
}
interface Workload extends KubeObject {
  spec?: { template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: Container[] } } };
}
interface Requirement {
  key: string;
  operator: string;
  values?: string[];
}
type Selector = { matchLabels?: Record<string, string>; matchExpressions?: Requirement[] } | undefined;

/**
 * Reads what translateLinkerd needs for one target: the Service and the names of its namespace's Services, the
 * HTTPRoutes attached to it, its ServiceProfile, the Server for its pods and port with the AuthorizationPolicies,
 * MeshTLSAuthentications and rate limit policy on it, and its endpoints, workload and autoscalers. Routes are read in
 * the Service's namespace only: those are producer routes, which apply to every caller; a route in a caller's
 * namespace (a consumer route) is that caller's to own. Types the cluster does not serve read as absent.
 */
export async function readLinkerdContext(kube: KubeClient, target: TargetRef, nowMs: number, options: LinkerdReadOptions = {}): Promise<LinkerdContext> {
  const { namespace, service: name } = target;
  const domain = options.clusterDomain ?? "cluster.local";
  const [basics, services, routes, serviceProfile, servers, policies, lists, rateLimits] = await Promise.all([
    readTarget(kube, namespace, name),
    kube.list<TargetService>({ apiVersion: "v1", kind: "Service" }, namespace),
    kube.list<Routed>({ apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute" }, namespace),
    kube.get<KubeObject>({ apiVersion: "linkerd.io/v1alpha2", kind: "ServiceProfile", namespace, name: `${name}.${namespace}.svc.${domain}` }),
    kube.list<LinkerdServer>({ apiVersion: "policy.linkerd.io/v1beta3", kind: "Server" }, namespace),
    kube.list<LinkerdAuthorizationPolicy>({ apiVersion: POLICY, kind: "AuthorizationPolicy" }, namespace),
    kube.list<MeshTLSAuthentication>({ apiVersion: POLICY, kind: "MeshTLSAuthentication" }, namespace),
    kube.list<HTTPLocalRateLimitPolicy>({ apiVersion: POLICY, kind: "HTTPLocalRateLimitPolicy" }, namespace),
  ]);
  const service = basics.service as TargetService | null;
  if (service === null) throw new TargetServiceMissingError(target);
  const workload = basics.workload as Workload | null;
  const servicePort = service.spec?.ports?.[0];
  const targetPort = servicePort === undefined ? null : (servicePort.targetPort ?? servicePort.port);
  // Pods carry at least the Service's selector; the workload's template names all their labels when it is known.
  const podLabels = workload?.spec?.template?.metadata?.labels ?? basics.selector ?? {};
  const server = targetPort === null ? null : findServer(servers, podLabels, targetPort, workload);
  const authorizationPolicies = policies.filter((p) => targets(p.spec?.targetRef, server, namespace));
  const meshTLSAuthentications = await readAuthentications(kube, authorizationPolicies, lists, namespace);
  return {
    nowMs,
    ...(options.trustDomain === undefined ? {} : { trustDomain: options.trustDomain }),
    ...(options.coexistence === undefined ? {} : { coexistence: options.coexistence }),
    service,
    backendServices: services.map((s) => s.metadata?.name ?? "").filter((n) => n !== "").sort(),
    backendPorts: Object.fromEntries(services.flatMap((s): [string, ServicePort[]][] => (s.metadata?.name === undefined ? [] : [[s.metadata.name, s.spec?.ports ?? []]]))),
    httpRoutes: routes.filter((r) => attachesTo(r, name, namespace)),
    serviceProfile,
    server,
    authorizationPolicies,
    meshTLSAuthentications,
    rateLimitPolicy: findRateLimit(rateLimits, server, target),
    allowListFromObservedCallers: options.allowListFromObservedCallers ?? false,
    // The dependency graph is not wired to the actuator yet: no callers are known, so an allow list is never built
    // from observation (the translation says so) and one meshloop built earlier gains no new callers.
    observedCallers: [],
    workloadSelector: basics.selector,
    targetPort,
    endpoints: basics.endpoints,
    workload,
    autoscalers: basics.autoscalers as Autoscaler[],
  };
}

/** A parentRef to the Service: kind Service in the core group (Linkerd accepts `core` or empty), same namespace. */
function attachesTo(route: Routed, service: string, namespace: string): boolean {
  return (route.spec?.parentRefs ?? []).some(
    (p) => p.kind === "Service" && (p.group === "core" || p.group === "" || p.group === undefined) && p.name === service && (p.namespace ?? namespace) === namespace,
  );
}

/**
 * The Server whose pod selector selects the target's pods and whose port is the Service's target port (named ports
 * resolved through the workload's containers when it is known). Of several, the oldest, so the choice is stable.
 */
function findServer(servers: readonly LinkerdServer[], podLabels: Record<string, string>, targetPort: number | string, workload: Workload | null): LinkerdServer | null {
  const port = resolvePort(targetPort, workload);
  const matching = servers.filter((s) => s.spec?.port !== undefined && resolvePort(s.spec.port, workload) === port && selects(s.spec.podSelector, podLabels));
  matching.sort((a, b) => created(a).localeCompare(created(b)) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  return matching[0] ?? null;
}

function created(object: KubeObject): string {
  return object.metadata?.creationTimestamp ?? "";
}

function resolvePort(port: number | string, workload: Workload | null): number | string {
  if (typeof port === "number") return port;
  const containers = workload?.spec?.template?.spec?.containers ?? [];
  return containers.flatMap((c) => c.ports ?? []).find((p) => p.name === port)?.containerPort ?? port;
}

/** A Kubernetes label selector; an empty one selects every pod, as Linkerd reads `podSelector: {}`. */
function selects(selector: Selector, labels: Record<string, string>): boolean {
  if (selector === undefined) return false;
  const byLabel = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return byLabel && (selector.matchExpressions ?? []).every((r) => holds(r, labels));
}

function holds(requirement: Requirement, labels: Record<string, string>): boolean {
  const value = labels[requirement.key];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case "In":
      return value !== undefined && values.includes(value);
    case "NotIn":
      return value === undefined || !values.includes(value);
    case "Exists":
      return value !== undefined;
    case "DoesNotExist":
      return value === undefined;
    default:
      return false;
  }
}

/** An AuthorizationPolicy on the Server, or on the whole namespace (which covers every Server in it). */
function targets(ref: PolicyRef | undefined, server: LinkerdServer | null, namespace: string): boolean {
  if (ref === undefined) return false;
  if (ref.kind === "Namespace") return (ref.name ?? namespace) === namespace;
  return ref.kind === "Server" && server !== null && ref.name === server.metadata?.name;
}

/** The MeshTLSAuthentications the policies require: from the namespace's list, or read where a ref points elsewhere. */
async function readAuthentications(
  kube: KubeClient,
  policies: readonly LinkerdAuthorizationPolicy[],
  local: readonly MeshTLSAuthentication[],
  namespace: string,
): Promise<MeshTLSAuthentication[]> {
  const wanted = new Map<string, { namespace: string; name: string }>();
  for (const policy of policies) {
    for (const ref of policy.spec?.requiredAuthenticationRefs ?? []) {
      if (ref.kind !== "MeshTLSAuthentication" || ref.name === undefined) continue;
      const ns = ref.namespace ?? policy.metadata?.namespace ?? namespace;
      wanted.set(`${ns}/${ref.name}`, { namespace: ns, name: ref.name });
    }
  }
  const found = await Promise.all(
    [...wanted.values()].map(async (w) =>
      w.namespace === namespace
        ? (local.find((m) => m.metadata?.name === w.name) ?? null)
        : kube.get<MeshTLSAuthentication>({ apiVersion: POLICY, kind: "MeshTLSAuthentication", namespace: w.namespace, name: w.name }),
    ),
  );
  return found.filter((m): m is MeshTLSAuthentication => m !== null);
}

/**
 * The rate limit policy on the Server: the user's if there is one (the translation then leaves the Server's limit to
 * them), else meshloop's. Without a Server, meshloop's own by name, so it can still be removed.
 */
function findRateLimit(policies: readonly HTTPLocalRateLimitPolicy[], server: LinkerdServer | null, target: TargetRef): HTTPLocalRateLimitPolicy | null {
  if (server === null) return policies.find((p) => isOwnedByMeshloop(p.metadata) && p.metadata?.name === rateLimitPolicyName(target)) ?? null;
  const onServer = policies.filter((p) => p.spec?.targetRef?.kind === "Server" && p.spec.targetRef.name === server.metadata?.name);
  return onServer.find((p) => !isOwnedByMeshloop(p.metadata)) ?? onServer[0] ?? null;
}
