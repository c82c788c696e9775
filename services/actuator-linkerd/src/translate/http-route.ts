import type { TargetRef } from "@meshloop/contracts";
import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import { clone, isOwnedByMeshloop, MANAGED_BY_LABEL, MESHLOOP, ownedName } from "@meshloop/actuator-kit";

/**
 * Weights in Linkerd: a Gateway API HTTPRoute attached to the target Service (parentRef group `core`, kind Service)
 * whose catch-all rule splits traffic over one backend Service per version. Routes attached to a Service are merged
 * by Gateway API's precedence: a user's more specific rules keep their traffic, and of two catch-all rules only the
 * older route's counts. So meshloop changes the user's catch-all rule when there is one, and otherwise adds its own
 * route with a catch-all rule.
 */
type Rule = NonNullable<IHTTPRoute["spec"]["rules"]>[number];

export interface Backend {
  name: string;
  weight: number;
}

export type RouteChoice =
  | { kind: "merge"; route: IHTTPRoute; rule: number }
  | { kind: "own"; existing: IHTTPRoute | null }
  | { kind: "conflict"; route: IHTTPRoute; reason: string };

/** Which route carries the weights: the user's catch-all rule if any, else meshloop's own route. */
export function chooseRoute(routes: readonly IHTTPRoute[], target: TargetRef): RouteChoice {
  const owned = routes.find((r) => isOwnedByMeshloop(r.metadata)) ?? null;
  for (const route of routes) {
    if (isOwnedByMeshloop(route.metadata)) continue;
    const rules = route.spec.rules ?? [];
    const index = rules.findIndex(isCatchAll);
    if (index === -1) continue;
    const refs = rules[index]!.backendRefs ?? [];
    const elsewhere = refs.find((b) => (b.kind ?? "Service") !== "Service" || (b.group ?? "") !== "" || (b.namespace ?? target.namespace) !== target.namespace);
    if (elsewhere !== undefined) {
      return { kind: "conflict", route, reason: `its catch-all rule sends traffic to ${elsewhere.kind ?? "Service"} ${elsewhere.namespace ?? target.namespace}/${elsewhere.name}; meshloop will not reroute it` };
    }
    return { kind: "merge", route, rule: index };
  }
  return { kind: "own", existing: owned };
}

export function newHttpRoute(target: TargetRef, port: number, backends: readonly Backend[]): IHTTPRoute {
  return {
    apiVersion: "gateway.networking.k8s.io/v1",
    kind: "HTTPRoute",
    metadata: { name: ownedName(target.service), namespace: target.namespace, labels: { [MANAGED_BY_LABEL]: MESHLOOP } },
    spec: {
      parentRefs: [{ group: "core", kind: "Service", name: target.service, port }],
      rules: [{ backendRefs: backendRefs(port, backends) }],
    },
  };
}

/** The user's route with the catch-all rule's backends replaced; its matches, filters and other rules stay. */
export function mergeHttpRoute(route: IHTTPRoute, rule: number, port: number, backends: readonly Backend[]): IHTTPRoute {
  const merged = clone(route);
  const rules = merged.spec.rules!;
  rules[rule] = { ...rules[rule]!, backendRefs: backendRefs(port, backends) };
  return merged;
}

function backendRefs(port: number, backends: readonly Backend[]): NonNullable<Rule["backendRefs"]> {
  return backends.map((b) => ({ name: b.name, port, weight: b.weight }));
}

/** No matches, or a match that every request satisfies (path prefix `/` and nothing else). */
function isCatchAll(rule: Rule): boolean {
  const matches = rule.matches ?? [];
  return (
    matches.length === 0 ||
    matches.some((m) => Object.keys(m).every((k) => k === "path") && (m.path === undefined || (m.path.type === "PathPrefix" && m.path.value === "/")))
  );
}
