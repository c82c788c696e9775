/**
 * The resource types the emulator serves, as the API server's discovery knows them: group, versions, kind, plural,
 * whether namespaced, and whether the scale subresource exists. Every served version shares one storage (as Istio's
 * v1/v1beta1 do), and lists of built-in types omit each item's apiVersion and kind, as the real API server does.
 */
export interface ResourceType {
  group: string;
  versions: readonly string[];
  kind: string;
  plural: string;
  namespaced: boolean;
  /** Whether it is a built-in type (lists then leave out items' apiVersion and kind) rather than a CRD. */
  builtin: boolean;
  scale?: boolean;
}

export const DEFAULT_RESOURCES: readonly ResourceType[] = [
  { group: "", versions: ["v1"], kind: "Service", plural: "services", namespaced: true, builtin: true },
  { group: "", versions: ["v1"], kind: "Pod", plural: "pods", namespaced: true, builtin: true },
  { group: "", versions: ["v1"], kind: "Endpoints", plural: "endpoints", namespaced: true, builtin: true },
  { group: "", versions: ["v1"], kind: "ConfigMap", plural: "configmaps", namespaced: true, builtin: true },
  { group: "", versions: ["v1"], kind: "Namespace", plural: "namespaces", namespaced: false, builtin: true },
  { group: "apps", versions: ["v1"], kind: "Deployment", plural: "deployments", namespaced: true, builtin: true, scale: true },
  { group: "apps", versions: ["v1"], kind: "StatefulSet", plural: "statefulsets", namespaced: true, builtin: true, scale: true },
  { group: "autoscaling", versions: ["v2"], kind: "HorizontalPodAutoscaler", plural: "horizontalpodautoscalers", namespaced: true, builtin: true },
  { group: "discovery.k8s.io", versions: ["v1"], kind: "EndpointSlice", plural: "endpointslices", namespaced: true, builtin: true },
  { group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], kind: "VirtualService", plural: "virtualservices", namespaced: true, builtin: false },
  { group: "networking.istio.io", versions: ["v1", "v1beta1", "v1alpha3"], kind: "DestinationRule", plural: "destinationrules", namespaced: true, builtin: false },
  { group: "networking.istio.io", versions: ["v1alpha3"], kind: "EnvoyFilter", plural: "envoyfilters", namespaced: true, builtin: false },
  { group: "security.istio.io", versions: ["v1", "v1beta1"], kind: "AuthorizationPolicy", plural: "authorizationpolicies", namespaced: true, builtin: false },
  { group: "security.istio.io", versions: ["v1", "v1beta1"], kind: "PeerAuthentication", plural: "peerauthentications", namespaced: true, builtin: false },
  { group: "gateway.networking.k8s.io", versions: ["v1", "v1beta1"], kind: "HTTPRoute", plural: "httproutes", namespaced: true, builtin: false },
  { group: "linkerd.io", versions: ["v1alpha2"], kind: "ServiceProfile", plural: "serviceprofiles", namespaced: true, builtin: false },
  { group: "policy.linkerd.io", versions: ["v1beta3"], kind: "Server", plural: "servers", namespaced: true, builtin: false },
  { group: "policy.linkerd.io", versions: ["v1alpha1"], kind: "AuthorizationPolicy", plural: "authorizationpolicies", namespaced: true, builtin: false },
  { group: "policy.linkerd.io", versions: ["v1alpha1"], kind: "MeshTLSAuthentication", plural: "meshtlsauthentications", namespaced: true, builtin: false },
  { group: "policy.linkerd.io", versions: ["v1alpha1"], kind: "HTTPLocalRateLimitPolicy", plural: "httplocalratelimitpolicies", namespaced: true, builtin: false },
  { group: "keda.sh", versions: ["v1alpha1"], kind: "ScaledObject", plural: "scaledobjects", namespaced: true, builtin: false },
];

export function apiVersionOf(group: string, version: string): string {
  return group === "" ? version : `${group}/${version}`;
}

/** `virtualservices.networking.istio.io`, as the API server names a resource in its messages. */
export function qualifiedResource(type: ResourceType): string {
  return type.group === "" ? type.plural : `${type.plural}.${type.group}`;
}

/** `VirtualService.networking.istio.io`, as validation messages name a kind. */
export function qualifiedKind(type: ResourceType): string {
  return type.group === "" ? type.kind : `${type.kind}.${type.group}`;
}
