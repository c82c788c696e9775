import type { DeniedCaller, DesiredState, TargetRef } from "@meshloop/contracts";
import { clone, findOtherController, isOwnedByMeshloop, MANAGED_BY_LABEL, MESHLOOP, ownedName, refOf } from "@meshloop/actuator-kit";
import type { KubeObject, Translation } from "@meshloop/actuator-kit";
import type { LinkerdContext } from "../context.ts";
import type { LinkerdAuthorizationPolicy, LinkerdServer, MeshTLSAuthentication, PolicyRef } from "../linkerd-objects.ts";
import { identityPatternMatches, linkerdIdentity, parseIdentity } from "./identities.ts";
import type { Workload } from "./identities.ts";

/**
 * Isolation in Linkerd, whose authorization is an allow list with no DENY: a denied caller's identity is taken out of
 * the MeshTLSAuthentications that the Server's AuthorizationPolicies require, and what was taken out is recorded on
 * the object so it goes back when the denial ends. Where no allow list exists, building one denies every caller not on
 * it, so meshloop does that only when the policy allows it, from the callers observed in the dependency graph.
 */
export const REMOVED_ANNOTATION = "meshloop.io/removed-identities";

interface Removed {
  identities: string[];
  identityRefs: PolicyRef[];
}

interface Denied {
  caller: DeniedCaller;
  identity: string;
  workload: Workload | null;
}

export function translateAuthorization(state: DesiredState, context: LinkerdContext, out: Translation): void {
  const trustDomain = context.trustDomain ?? "cluster.local";
  const denied: Denied[] = state.deniedCallers.map((caller) => ({ caller, identity: linkerdIdentity(caller.identity, trustDomain), workload: parseIdentity(caller.identity) }));
  const required = new Set(context.authorizationPolicies.flatMap((p) => (p.spec?.requiredAuthenticationRefs ?? []).filter((r) => r.kind === "MeshTLSAuthentication").map((r) => r.name)));
  const lists = context.meshTLSAuthentications.filter((m) => required.has(m.metadata?.name));
  if (denied.length === 0) {
    release(context, lists, out);
    return;
  }
  if (lists.length === 0) {
    build(state.target, context, denied, out);
    return;
  }
  const access = context.server?.spec?.accessPolicy;
  if (access !== undefined && access !== "deny") {
    out.unsupported.push({ capability: "denyCaller", reason: `Server ${context.server?.metadata?.name} admits callers no policy names (accessPolicy ${access}); meshloop does not change a Server's default` });
    return;
  }
  const blocked = new Map<string, string>();
  for (const policy of context.authorizationPolicies) {
    const refs = policy.spec?.requiredAuthenticationRefs ?? [];
    if (!refs.some((r) => r.kind === "MeshTLSAuthentication" || r.kind === "ServiceAccount")) {
      out.unsupported.push({ capability: "denyCaller", reason: `AuthorizationPolicy ${policy.metadata?.name} admits any identity by network; removing identities from allow lists cannot deny a caller` });
      return;
    }
    for (const d of denied) {
      if (refs.some((r) => r.kind === "ServiceAccount" && sameAccount(r, policy, d.workload))) {
        blocked.set(d.caller.identity, `AuthorizationPolicy ${policy.metadata?.name} admits its service account directly`);
      }
    }
  }
  const observed = context.observedCallers.map((c) => linkerdIdentity(c, trustDomain));
  for (const list of lists) {
    const owned = isOwnedByMeshloop(list.metadata);
    const next = restore(list, denied);
    // An allow list meshloop built keeps up with the callers seen since.
    if (owned) next.spec!.identities = [...new Set([...(next.spec?.identities ?? []), ...observed])].sort();
    for (const [identity, why] of remove(next, denied)) blocked.set(identity, why);
    if (JSON.stringify(next) === JSON.stringify(list)) continue;
    if (owned) {
      out.resources.push({ action: "apply", object: withoutServerFields(next) });
      continue;
    }
    const other = findOtherController(list.metadata, context.coexistence);
    if (other !== null) out.refused.push({ ref: refOf(list), capabilities: ["denyCaller"], reason: other.reason });
    else out.resources.push({ action: "update", object: next });
  }
  for (const [identity, why] of [...blocked].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out.unsupported.push({ capability: "denyCaller", reason: `${identity} stays allowed: ${why}` });
  }
}

/** No denials: identities meshloop took out go back, and an allow list meshloop built goes (the Server first). */
function release(context: LinkerdContext, lists: readonly MeshTLSAuthentication[], out: Translation): void {
  for (const list of lists) {
    if (isOwnedByMeshloop(list.metadata) || list.metadata?.annotations?.[REMOVED_ANNOTATION] === undefined) continue;
    const other = findOtherController(list.metadata, context.coexistence);
    if (other !== null) out.refused.push({ ref: refOf(list), capabilities: ["denyCaller"], reason: other.reason });
    else out.resources.push({ action: "update", object: restore(list, []) });
  }
  const owned: KubeObject[] = [context.server, ...context.authorizationPolicies, ...context.meshTLSAuthentications].filter(
    (o): o is KubeObject => o !== null && isOwnedByMeshloop(o.metadata),
  );
  const order = ["Server", "AuthorizationPolicy", "MeshTLSAuthentication"];
  owned.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
  for (const object of owned) out.resources.push({ action: "delete", ref: refOf(object) });
}

function build(target: TargetRef, context: LinkerdContext, denied: readonly Denied[], out: Translation): void {
  const unsupported = (reason: string) => out.unsupported.push({ capability: "denyCaller", reason });
  if (!context.allowListFromObservedCallers) {
    unsupported("Linkerd authorization is an allow list and the target has none: creating one would deny every caller not on it (the policy does not allow building it from observed callers)");
    return;
  }
  const server = context.server;
  if (server !== null && !isOwnedByMeshloop(server.metadata)) {
    if ((server.spec?.accessPolicy ?? "deny") === "deny") {
      out.warnings.push(`Server ${server.metadata?.name} denies every caller no policy names; the denied callers are not admitted`);
    } else {
      unsupported(`Server ${server.metadata?.name} admits callers no policy names (accessPolicy ${server.spec?.accessPolicy}); meshloop does not change a Server's default`);
    }
    return;
  }
  if (server === null && (context.workloadSelector === null || context.targetPort === null)) {
    unsupported("no Server exists for the target and its pods' selector or port is unknown, so none can be created");
    return;
  }
  const trustDomain = context.trustDomain ?? "cluster.local";
  const deniedIds = new Set(denied.map((d) => d.identity));
  const identities = [...new Set(context.observedCallers.map((c) => linkerdIdentity(c, trustDomain)))].filter((i) => !deniedIds.has(i)).sort();
  if (identities.length === 0) {
    unsupported("no caller other than the denied ones was observed: the allow list would deny every caller");
    return;
  }
  const serverName = server?.metadata?.name ?? ownedName(target.service);
  const listName = ownedName(target.service, "allow");
  const labels = { [MANAGED_BY_LABEL]: MESHLOOP };
  const removed = [...new Set(context.observedCallers.map((c) => linkerdIdentity(c, trustDomain)))].filter((i) => deniedIds.has(i)).sort();
  const list: MeshTLSAuthentication = {
    apiVersion: "policy.linkerd.io/v1alpha1",
    kind: "MeshTLSAuthentication",
    metadata: { name: listName, namespace: target.namespace, labels, ...(removed.length === 0 ? {} : { annotations: { [REMOVED_ANNOTATION]: JSON.stringify({ identities: removed, identityRefs: [] }) } }) },
    spec: { identities },
  };
  const policy: LinkerdAuthorizationPolicy = {
    apiVersion: "policy.linkerd.io/v1alpha1",
    kind: "AuthorizationPolicy",
    metadata: { name: listName, namespace: target.namespace, labels },
    spec: {
      targetRef: { group: "policy.linkerd.io", kind: "Server", name: serverName },
      requiredAuthenticationRefs: [{ group: "policy.linkerd.io", kind: "MeshTLSAuthentication", name: listName }],
    },
  };
  // The allow list exists before the Server that makes everyone else denied.
  out.resources.push({ action: "apply", object: list }, { action: "apply", object: policy });
  if (server === null) {
    const created: LinkerdServer = {
      apiVersion: "policy.linkerd.io/v1beta3",
      kind: "Server",
      metadata: { name: serverName, namespace: target.namespace, labels },
      spec: { podSelector: { matchLabels: { ...context.workloadSelector } }, port: context.targetPort!, accessPolicy: "deny" },
    };
    out.resources.push({ action: "apply", object: created });
  }
  out.warnings.push(`allow list built from ${identities.length} observed callers; callers not seen in the dependency graph are denied too`);
}

/** A copy with the identities meshloop took out and no longer denies put back, and the record updated. */
function restore(list: MeshTLSAuthentication, denied: readonly Denied[]): MeshTLSAuthentication {
  const next = clone(list);
  const spec = (next.spec ??= {});
  const removed = readRemoved(list);
  const stillDenied: Removed = { identities: [], identityRefs: [] };
  for (const identity of removed.identities) {
    if (denied.some((d) => d.identity === identity)) stillDenied.identities.push(identity);
    else if (!(spec.identities ?? []).includes(identity)) (spec.identities ??= []).push(identity);
  }
  for (const ref of removed.identityRefs) {
    if (denied.some((d) => sameAccount(ref, list, d.workload))) stillDenied.identityRefs.push(ref);
    else (spec.identityRefs ??= []).push(ref);
  }
  writeRemoved(next, stillDenied);
  return next;
}

/** Takes the denied callers out of the list; returns the callers a wildcard or namespace-wide entry still admits. */
function remove(list: MeshTLSAuthentication, denied: readonly Denied[]): Map<string, string> {
  const spec = (list.spec ??= {});
  const removed = readRemoved(list);
  const blocked = new Map<string, string>();
  for (const d of denied) {
    const exact = (spec.identities ?? []).filter((i) => i === d.identity);
    if (exact.length > 0) {
      spec.identities = spec.identities!.filter((i) => i !== d.identity);
      if (!removed.identities.includes(d.identity)) removed.identities.push(d.identity);
    }
    const refs = (spec.identityRefs ?? []).filter((r) => sameAccount(r, list, d.workload));
    if (refs.length > 0) {
      spec.identityRefs = spec.identityRefs!.filter((r) => !refs.includes(r));
      removed.identityRefs.push(...refs);
    }
    const pattern = (spec.identities ?? []).find((i) => i.includes("*") && identityPatternMatches(i, d.identity));
    const namespaceRef = (spec.identityRefs ?? []).find((r) => r.kind === "Namespace" && r.name === d.workload?.namespace);
    if (pattern !== undefined) blocked.set(d.caller.identity, `MeshTLSAuthentication ${list.metadata?.name} admits it by the pattern ${pattern}`);
    else if (namespaceRef !== undefined) blocked.set(d.caller.identity, `MeshTLSAuthentication ${list.metadata?.name} admits its whole namespace`);
  }
  removed.identities.sort();
  writeRemoved(list, removed);
  return blocked;
}

function sameAccount(ref: PolicyRef, holder: KubeObject, workload: Workload | null): boolean {
  if (workload === null || ref.kind !== "ServiceAccount") return false;
  return ref.name === workload.serviceAccount && (ref.namespace ?? holder.metadata?.namespace) === workload.namespace;
}

function readRemoved(list: MeshTLSAuthentication): Removed {
  const raw = list.metadata?.annotations?.[REMOVED_ANNOTATION];
  if (raw === undefined) return { identities: [], identityRefs: [] };
  try {
    const parsed = JSON.parse(raw) as Partial<Removed>;
    return { identities: [...(parsed.identities ?? [])], identityRefs: [...(parsed.identityRefs ?? [])] };
  } catch {
    // Someone edited the record by hand into something unreadable: nothing can be restored from it.
    return { identities: [], identityRefs: [] };
  }
}

function writeRemoved(list: MeshTLSAuthentication, removed: Removed): void {
  const metadata = (list.metadata ??= {});
  const annotations = { ...metadata.annotations };
  if (removed.identities.length === 0 && removed.identityRefs.length === 0) delete annotations[REMOVED_ANNOTATION];
  else annotations[REMOVED_ANNOTATION] = JSON.stringify(removed);
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  else metadata.annotations = annotations;
}

// An owned object is applied whole; what the server set on it is not part of what meshloop applies.
function withoutServerFields<T extends KubeObject>(object: T): T {
  const copy = clone(object);
  if (copy.metadata !== undefined) {
    const { name, namespace, labels, annotations } = copy.metadata;
    copy.metadata = { name, namespace, labels, ...(annotations === undefined ? {} : { annotations }) };
  }
  return copy;
}
