/**
 * Callers' identities in the two forms meshloop meets: SPIFFE ids (`spiffe://<td>/ns/<ns>/sa/<sa>`, how decisions
 * name callers by default) and Linkerd's proxy identities (`<sa>.<ns>.serviceaccount.identity.linkerd.<td>`, what
 * MeshTLSAuthentication lists). Both name a service account in a namespace.
 */
export interface Workload {
  namespace: string;
  serviceAccount: string;
}

const SPIFFE = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/;
const LINKERD = /^([^.]+)\.([^.]+)\.serviceaccount\.identity\.linkerd\.(.+)$/;

export function parseIdentity(identity: string): Workload | null {
  const spiffe = SPIFFE.exec(identity);
  if (spiffe !== null) return { namespace: spiffe[1]!, serviceAccount: spiffe[2]! };
  const linkerd = LINKERD.exec(identity);
  if (linkerd !== null) return { namespace: linkerd[2]!, serviceAccount: linkerd[1]! };
  return null;
}

/** The identity as a MeshTLSAuthentication lists it; identities of another form are kept as they are. */
export function linkerdIdentity(identity: string, trustDomain: string): string {
  const workload = parseIdentity(identity);
  return workload === null ? identity : `${workload.serviceAccount}.${workload.namespace}.serviceaccount.identity.linkerd.${trustDomain}`;
}

/** Linkerd's identity patterns: exact, `*`, or `*.` followed by a suffix. */
export function identityPatternMatches(pattern: string, identity: string): boolean {
  if (pattern === "*") return true;
  if (pattern.startsWith("*.")) return identity.endsWith(pattern.slice(1));
  return pattern === identity;
}
