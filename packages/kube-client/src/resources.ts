/**
 * How a kind is addressed in the API's URLs: its plural and whether it lives in a namespace. Kinds meshloop uses are
 * known here; any other is looked up once through discovery (`GET /apis/<group>/<version>`), as kubectl does.
 */
export interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

/** An object's type and place: `{ apiVersion: "networking.istio.io/v1", kind: "VirtualService", namespace, name }`. */
export interface ResourceRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface TypeRef {
  apiVersion: string;
  kind: string;
}

const KNOWN: Record<string, ResourceInfo> = {
  "v1/Service": { plural: "services", namespaced: true },
  "v1/Pod": { plural: "pods", namespaced: true },
  "v1/Endpoints": { plural: "endpoints", namespaced: true },
  "v1/ConfigMap": { plural: "configmaps", namespaced: true },
  "v1/Namespace": { plural: "namespaces", namespaced: false },
  "apps/v1/Deployment": { plural: "deployments", namespaced: true },
  "apps/v1/StatefulSet": { plural: "statefulsets", namespaced: true },
  "autoscaling/v2/HorizontalPodAutoscaler": { plural: "horizontalpodautoscalers", namespaced: true },
  "discovery.k8s.io/v1/EndpointSlice": { plural: "endpointslices", namespaced: true },
  "keda.sh/v1alpha1/ScaledObject": { plural: "scaledobjects", namespaced: true },
  "networking.istio.io/v1/VirtualService": { plural: "virtualservices", namespaced: true },
  "networking.istio.io/v1/DestinationRule": { plural: "destinationrules", namespaced: true },
  "networking.istio.io/v1alpha3/EnvoyFilter": { plural: "envoyfilters", namespaced: true },
  "security.istio.io/v1/AuthorizationPolicy": { plural: "authorizationpolicies", namespaced: true },
  "security.istio.io/v1/PeerAuthentication": { plural: "peerauthentications", namespaced: true },
  "gateway.networking.k8s.io/v1/HTTPRoute": { plural: "httproutes", namespaced: true },
  "linkerd.io/v1alpha2/ServiceProfile": { plural: "serviceprofiles", namespaced: true },
  "policy.linkerd.io/v1beta3/Server": { plural: "servers", namespaced: true },
  "policy.linkerd.io/v1alpha1/AuthorizationPolicy": { plural: "authorizationpolicies", namespaced: true },
  "policy.linkerd.io/v1alpha1/MeshTLSAuthentication": { plural: "meshtlsauthentications", namespaced: true },
  "policy.linkerd.io/v1alpha1/HTTPLocalRateLimitPolicy": { plural: "httplocalratelimitpolicies", namespaced: true },
};

export function knownResource(type: TypeRef): ResourceInfo | undefined {
  return KNOWN[`${type.apiVersion}/${type.kind}`];
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` for the others. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The path of a collection (name undefined) or of one object, optionally a subresource of it. */
export function resourcePath(type: TypeRef, info: ResourceInfo, namespace: string | undefined, name?: string, subresource?: string): string {
  const ns = info.namespaced && namespace !== undefined && namespace !== "" ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const object = name === undefined ? "" : `/${encodeURIComponent(name)}${subresource === undefined ? "" : `/${subresource}`}`;
  return `${groupVersionPath(type.apiVersion)}${ns}/${info.plural}${object}`;
}
