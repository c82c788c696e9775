import type { ResolutionConfig } from "@meshloop/contracts";
import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import type { IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import type { Autoscaler, CoexistenceOptions, KubeObject } from "@meshloop/actuator-kit";

/**
 * What the Istio actuator read from the cluster before translating: the objects it must merge into or replace.
 * The translation is a pure function of the desired state and this, so the same reads always give the same writes.
 */
export interface IstioContext {
  /** Wall-clock time of the translation, for leases (ejections and denials past their lease are not written). */
  nowMs: number;
  /** How versions name subsets; default `{version}`. */
  resolution?: Pick<ResolutionConfig, "subsetTemplate">;
  /** The pod label that carries the version, used in the subsets meshloop adds; default `version`. */
  versionLabel?: string;
  /** Default `cluster.local`. */
  clusterDomain?: string;
  /** istiod's version, e.g. `1.27.1`; absent means current (retry budgets supported). */
  istioVersion?: string;
  /** The target Service's `spec.selector`: the pods that policies and filters select. Null for a Service without one. */
  workloadSelector: Record<string, string> | null;
  /** Whether PeerAuthentication makes mTLS STRICT for the target; DENY by principal cannot stop plaintext callers. */
  mtlsStrict?: boolean;
  /** Ready endpoints of the target: per-proxy limits are the service's divided by it. Null when unknown. */
  endpoints: number | null;
  /**
   * The VirtualService that serves mesh traffic for the target's host (no `gateways`, or `mesh` among them), whoever
   * owns it; null if there is none. A gateway-only VirtualService is not it: meshloop then makes its own.
   */
  virtualService: IVirtualService | null;
  /** The DestinationRule for the target's host, whoever owns it; null if there is none. */
  destinationRule: IDestinationRule | null;
  /** meshloop's own deny policy for the target, if it exists (named `<service>-meshloop-deny`). */
  authorizationPolicy: IAuthorizationPolicy | null;
  /** meshloop's own rate-limit filter for the target, if it exists (named `<service>-meshloop-ratelimit`). */
  envoyFilter: IEnvoyFilter | null;
  /** The Deployment or StatefulSet behind the Service, for replicas; null if unknown. */
  workload: KubeObject | null;
  /** HPAs and KEDA ScaledObjects in the target's namespace. */
  autoscalers: readonly Autoscaler[];
  coexistence?: CoexistenceOptions;
}
