import type { TargetRef } from "@meshloop/contracts";
import type { IHTTPRoute } from "@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute";
import {
  clone,
  findOtherController,
  hasRecord,
  isOwnedByMeshloop,
  MANAGED_BY_LABEL,
  MESHLOOP,
  ORIGINAL_ANNOTATION,
  originalAnnotation,
  ownedName,
  recordMerge,
  refOf,
  restorationNotes,
  restoreFields,
  setOriginalAnnotation,
} from "@meshloop/actuator-kit";
import type { CoexistenceOptions, FieldAccess, Translation } from "@meshloop/actuator-kit";
import { validateHttpRoute } from "../validate.ts";

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

/**
 * The user's route with the catch-all rule's backends replaced; its matches, filters and other rules stay. The
 * change is recorded for a release by recordRuleMerge, once the route is final.
 */
export function mergeHttpRoute(route: IHTTPRoute, rule: number, port: number, backends: readonly Backend[]): IHTTPRoute {
  const merged = clone(route);
  const rules = merged.spec.rules!;
  rules[rule] = { ...rules[rule]!, backendRefs: backendRefs(port, backends) };
  return merged;
}

// The one field meshloop changes in a user's route, named in its record: the catch-all rule's backends.
const BACKENDS = "spec.rules[catch-all].backendRefs";

/**
 * Records, in the `meshloop.io/original` annotation of the update that carries the change, the catch-all rule's
 * backends as `found` had them; call it on the merged route as it will be written (ports and all), since the record
 * also holds a digest of what meshloop wrote. A record already there keeps its original: the first found is the one
 * a release restores.
 */
export function recordRuleMerge(found: IHTTPRoute, merged: IHTTPRoute, rule: number): { ok: true; route: IHTTPRoute } | { ok: false; reason: string } {
  const text = originalAnnotation(found.metadata);
  const record = recordMerge(text, { [BACKENDS]: found.spec.rules?.[rule]?.backendRefs }, { [BACKENDS]: merged.spec.rules?.[rule]?.backendRefs });
  if (!record.ok) return { ok: false, reason: `HTTPRoute ${found.metadata?.namespace}/${found.metadata?.name}, annotation ${ORIGINAL_ANNOTATION}: ${record.reason}` };
  const route = clone(merged);
  setOriginalAnnotation((route.metadata ??= {}), record.text);
  return { ok: true, route };
}

/**
 * The user's route as meshloop found it, for a release: the catch-all rule's backends put back and the record
 * dropped; null when the route has no record. Backends someone changed since meshloop wrote them stay as they made
 * them (restoring would undo their change), and `notes` says so.
 */
export function restoreHttpRoute(route: IHTTPRoute): { object: IHTTPRoute; notes: string[] } | null {
  const text = originalAnnotation(route.metadata);
  if (!hasRecord(text)) return null;
  const restored = clone(route);
  const fields = new Map<string, FieldAccess>();
  const rule = (restored.spec.rules ?? []).find(isCatchAll);
  if (rule !== undefined) {
    fields.set(BACKENDS, {
      get: () => rule.backendRefs,
      set: (value) => {
        if (value === undefined) delete rule.backendRefs;
        else rule.backendRefs = value as Rule["backendRefs"];
      },
    });
  }
  const restoration = restoreFields(text, fields);
  setOriginalAnnotation((restored.metadata ??= {}), null);
  return { object: restored, notes: restorationNotes(`HTTPRoute ${route.metadata?.namespace}/${route.metadata?.name}`, restoration) };
}

/**
 * A release of the weights: every user route meshloop merged into goes back as it found it, by a resourceVersion-
 * checked update. A route another controller now manages is not written even for that: it is reported refused.
 */
export function releaseHttpRoutes(routes: readonly IHTTPRoute[], coexistence: CoexistenceOptions | undefined, out: Translation): void {
  for (const route of routes) {
    if (isOwnedByMeshloop(route.metadata)) continue;
    const restored = restoreHttpRoute(route);
    if (restored === null) continue;
    const other = findOtherController(route.metadata, coexistence);
    if (other !== null) {
      out.refused.push({ ref: refOf(route), capabilities: [], reason: `meshloop's changes to it are not undone: ${other.reason}` });
      continue;
    }
    const problem = validateHttpRoute(restored.object);
    if (problem !== null) {
      out.failed.push({ capabilities: [], reason: `HTTPRoute ${route.metadata?.namespace}/${route.metadata?.name} as meshloop found it does not pass the Gateway API schema: ${problem}`, ref: refOf(route) });
      continue;
    }
    out.warnings.push(...restored.notes);
    out.resources.push({ action: "update", object: restored.object });
  }
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
