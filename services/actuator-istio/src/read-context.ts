import type { IDestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1/DestinationRule";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import type { IEnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3/EnvoyFilter";
import type { IAuthorizationPolicy } from "@kubernetes-models/istio/security.istio.io/v1/AuthorizationPolicy";
import type { Autoscaler, CoexistenceOptions, KubeObject } from "@meshloop/actuator-kit";
import type { TargetRef } from "@meshloop/contracts";
import type { KubeClient } from "@meshloop/kube-client";
import { readTarget } from "@meshloop/kube-client/actuation";
import type { IstioContext } from "./context.ts";
import { denyPolicyName } from "./translate/authorization-policy.ts";
import { rateLimitFilterName } from "./translate/envoy-filter.ts";

export interface IstioReadOptions {
  readonly clusterDomain?: string;
  readonly istioVersion?: string;
  readonly coexistence?: CoexistenceOptions;
}

interface PeerAuthentication {
  metadata?: { namespace?: string };
  spec?: { selector?: { matchLabels?: Record<string, string> }; mtls?: { mode?: string } };
}

/**
 * Reads what translateIstio needs for one target: the Service, its endpoints and workload, the VirtualService and
 * DestinationRule for its host (whoever owns them), meshloop's own deny policy and rate-limit filter, the autoscalers
 * of the namespace and whether mTLS is STRICT. Everything read in parallel; types the cluster does not serve read
 * as absent.
 */
export async function readIstioContext(kube: KubeClient, target: TargetRef, nowMs: number, options: IstioReadOptions = {}): Promise<IstioContext> {
  const { namespace, service } = target;
  const domain = options.clusterDomain ?? "cluster.local";
  const hosts = new Set([service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${domain}`]);
  const [basics, virtualServices, destinationRules, authorizationPolicy, envoyFilter, peerAuthentications, meshWide] = await Promise.all([
    readTarget(kube, namespace, service),
    kube.list<IVirtualService & { kind: string }>({ apiVersion: "networking.istio.io/v1", kind: "VirtualService" }, namespace),
    kube.list<IDestinationRule & { kind: string }>({ apiVersion: "networking.istio.io/v1", kind: "DestinationRule" }, namespace),
    kube.get<IAuthorizationPolicy & { kind: string }>({ apiVersion: "security.istio.io/v1", kind: "AuthorizationPolicy", namespace, name: denyPolicyName(target) }),
    kube.get<IEnvoyFilter & { kind: string }>({ apiVersion: "networking.istio.io/v1alpha3", kind: "EnvoyFilter", namespace, name: rateLimitFilterName(target) }),
    kube.list<PeerAuthentication & { apiVersion: string; kind: string }>({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication" }, namespace),
    kube.list<PeerAuthentication & { apiVersion: string; kind: string }>({ apiVersion: "security.istio.io/v1", kind: "PeerAuthentication" }, "istio-system"),
  ]);
  // Mesh traffic: a VirtualService without gateways, or with `mesh` among them; a gateway-only one is not it.
  const virtualService = virtualServices.find((vs) => (vs.spec?.hosts ?? []).some((h) => hosts.has(h)) && ((vs.spec?.gateways ?? []).length === 0 || vs.spec?.gateways?.includes("mesh") === true)) ?? null;
  const destinationRule = destinationRules.find((dr) => dr.spec?.host !== undefined && hosts.has(dr.spec.host)) ?? null;
  return {
    nowMs,
    ...(options.clusterDomain === undefined ? {} : { clusterDomain: options.clusterDomain }),
    ...(options.istioVersion === undefined ? {} : { istioVersion: options.istioVersion }),
    ...(options.coexistence === undefined ? {} : { coexistence: options.coexistence }),
    workloadSelector: basics.selector,
    mtlsStrict: mtlsStrict(basics.selector, peerAuthentications, meshWide),
    endpoints: basics.endpoints,
    virtualService,
    destinationRule,
    authorizationPolicy,
    envoyFilter,
    workload: basics.workload as KubeObject | null,
    autoscalers: basics.autoscalers as Autoscaler[],
  };
}

/** The most specific PeerAuthentication wins: workload selector, then namespace-wide, then mesh-wide (istio-system). */
function mtlsStrict(selector: Record<string, string> | null, namespaced: readonly PeerAuthentication[], meshWide: readonly PeerAuthentication[]): boolean {
  const selects = (pa: PeerAuthentication) => {
    const labels = pa.spec?.selector?.matchLabels;
    return labels !== undefined && selector !== null && Object.entries(labels).every(([k, v]) => selector[k] === v);
  };
  const specific = namespaced.find(selects) ?? namespaced.find((pa) => pa.spec?.selector === undefined) ?? meshWide.find((pa) => pa.spec?.selector === undefined);
  return specific?.spec?.mtls?.mode === "STRICT";
}
