import type { KubeObject } from "@meshloop/actuator-kit";

/**
 * Linkerd's policy resources, typed by hand: no @kubernetes-models package covers policy.linkerd.io. Only the fields
 * meshloop reads or writes are named; the rest of an object read from the cluster is carried along untouched.
 */
export interface PolicyRef {
  group?: string;
  kind: string;
  name?: string;
  namespace?: string;
}

/** policy.linkerd.io/v1beta3 Server: the pods and port that inbound policy applies to. */
export interface LinkerdServer extends KubeObject {
  spec?: {
    podSelector?: { matchLabels?: Record<string, string> };
    port?: number | string;
    /** The default for traffic no AuthorizationPolicy admits; `deny` when unset. */
    accessPolicy?: string;
  };
}

/** policy.linkerd.io/v1alpha1 AuthorizationPolicy: admits traffic to its target when all required authentications hold. */
export interface LinkerdAuthorizationPolicy extends KubeObject {
  spec?: { targetRef?: PolicyRef; requiredAuthenticationRefs?: PolicyRef[] };
}

/** policy.linkerd.io/v1alpha1 MeshTLSAuthentication: the mTLS identities an AuthorizationPolicy admits. */
export interface MeshTLSAuthentication extends KubeObject {
  spec?: { identities?: string[]; identityRefs?: PolicyRef[] };
}

/** policy.linkerd.io/v1alpha1 HTTPLocalRateLimitPolicy: each proxy's own request budget for a Server. */
export interface HTTPLocalRateLimitPolicy extends KubeObject {
  spec?: { targetRef?: PolicyRef; total?: { requestsPerSecond: number } };
}

/** One of a Service's ports: what callers connect to (`port`), and the pods' port it forwards to (`targetPort`). */
export interface ServicePort {
  port: number;
  name?: string;
  targetPort?: number | string;
}

/** The target Service as read: its annotations carry Linkerd's retry, timeout and failure-accrual settings. */
export interface TargetService extends KubeObject {
  spec?: { ports?: ServicePort[]; selector?: Record<string, string> };
}
