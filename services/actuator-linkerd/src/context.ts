import type { ResolutionConfig } from "@meshloop/contracts";
import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import type { Autoscaler, CoexistenceOptions, KubeObject } from "@meshloop/actuator-kit";
import type {
  HTTPLocalRateLimitPolicy,
  LinkerdAuthorizationPolicy,
  LinkerdServer,
  MeshTLSAuthentication,
  ServicePort,
  TargetService,
} from "./linkerd-objects.ts";

/**
 * What the Linkerd actuator read from the cluster before translating. The translation is a pure function of the
 * desired state and this, so the same reads always give the same writes.
 */
export interface LinkerdContext {
  /** Wall-clock time of the translation, for leases. */
  nowMs: number;
  /** How versions name their backend Services; default `{service}-{version}` (Linkerd splits over Services). */
  resolution?: Pick<ResolutionConfig, "subsetTemplate">;
  /** Default `cluster.local`: Linkerd identities end in `identity.linkerd.<trustDomain>`. */
  trustDomain?: string;
  /** The target Service. */
  service: TargetService;
  /** The Service port that routes attach to; default the Service's first port. */
  port?: number;
  /** Why no port is known when neither `port` nor the Service gives one (GitOps: the variable to set); default: the Service has none. */
  missingPort?: string;
  /** Names of the Services in the target's namespace: a version's backend must exist before traffic goes to it. */
  backendServices: readonly string[];
  /**
   * Those Services' ports, by Service name. A version's backendRef names the port of its own Service that serves
   * what the target's port serves (same name, else same targetPort, else same number), which need not be the
   * target's port number.
   */
  backendPorts: Readonly<Record<string, readonly ServicePort[]>>;
  /** HTTPRoutes whose parentRefs name the target Service, whoever owns them. */
  httpRoutes: readonly IHTTPRoute[];
  /** The ServiceProfile for the Service (`<service>.<namespace>.svc.<domain>`), if one exists. */
  serviceProfile: KubeObject | null;
  /** The Server for the target's pods and port, whoever owns it; null if there is none. */
  server: LinkerdServer | null;
  /** AuthorizationPolicies targeting that Server (or its namespace), whoever owns them. */
  authorizationPolicies: readonly LinkerdAuthorizationPolicy[];
  /** The MeshTLSAuthentications those policies require. */
  meshTLSAuthentications: readonly MeshTLSAuthentication[];
  /** The HTTPLocalRateLimitPolicy targeting the Server, whoever owns it. */
  rateLimitPolicy: HTTPLocalRateLimitPolicy | null;
  /** The policy allows meshloop to build an allow list from observed callers where none exists. */
  allowListFromObservedCallers: boolean;
  /** Identities seen calling the target in the dependency graph (SPIFFE or Linkerd form). */
  observedCallers: readonly string[];
  /** The Service's selector and the pods' port, for a Server meshloop creates; null when unknown. */
  workloadSelector: Record<string, string> | null;
  targetPort: number | string | null;
  /** Ready endpoints: each proxy enforces its share of a rate limit. Null when unknown. */
  endpoints: number | null;
  workload: KubeObject | null;
  autoscalers: readonly Autoscaler[];
  coexistence?: CoexistenceOptions;
}
