import type { RetryPolicy, TargetRef } from "@meshloop/contracts";
import type { IVirtualService } from "@kubernetes-models/istio/networking.istio.io/v1/VirtualService";
import {
  clone,
  formatDuration,
  hasRecord,
  MANAGED_BY_LABEL,
  MESHLOOP,
  ORIGINAL_ANNOTATION,
  originalAnnotation,
  ownedName,
  recordedFields,
  recordMerge,
  restorationNotes,
  restoreFields,
  setOriginalAnnotation,
} from "@meshloop/actuator-kit";
import type { FieldAccess } from "@meshloop/actuator-kit";

/**
 * The VirtualService side of a desired state: weights as weighted subset destinations, retries and the request
 * timeout. meshloop manages one HTTP route per VirtualService: the one named `meshloop`, else the user's catch-all
 * route to the target, else a `meshloop` route it appends after the user's routes (so it never shadows them).
 * Every other route, and every field of the managed route that meshloop does not set, stays as the user wrote it.
 */
export type HttpRoute = NonNullable<NonNullable<IVirtualService["spec"]>["http"]>[number];
export type HttpRetry = NonNullable<HttpRoute["retries"]>;
type Destination = NonNullable<HttpRoute["route"]>[number];

export const MESHLOOP_ROUTE = "meshloop";

// The names of the fields in meshloop's record: the route it manages, by how it finds it (its name, or the first
// catch-all route), and that route's fields it sets; or the route it added, whole.
type Locator = typeof MESHLOOP_ROUTE | "catch-all";
const ROUTE_FIELDS = ["route", "retries", "timeout"] as const;
type RouteField = (typeof ROUTE_FIELDS)[number];
const ADDED_ROUTE = `spec.http[${MESHLOOP_ROUTE}]`;
const routeFieldKey = (locator: Locator, field: RouteField) => `spec.http[${locator}].${field}`;

/** What meshloop sets on its route; null fields are not managed and left alone. */
export interface RoutePlan {
  /** The target's FQDN, used where meshloop writes a destination of its own. */
  host: string;
  weights: { subset: string; weight: number }[] | null;
  retries: HttpRetry | null;
  timeout: string | null;
}

export type MergeResult = { ok: true; object: IVirtualService } | { ok: false; reason: string };

export function istioRetries(policy: RetryPolicy): HttpRetry {
  // attempts 0 is Istio's way to switch retries off, including the mesh's default two.
  if (policy.attempts === 0) return { attempts: 0 };
  const retries: HttpRetry = { attempts: policy.attempts };
  if (policy.perTryTimeoutMs !== null) retries.perTryTimeout = formatDuration(policy.perTryTimeoutMs);
  // Istio takes status codes inside retryOn; an empty list leaves Istio's default conditions.
  const conditions = [...policy.retryOn, ...policy.retriableStatusCodes.map(String)];
  if (conditions.length > 0) retries.retryOn = conditions.join(",");
  return retries;
}

/** meshloop's own VirtualService, for a host no VirtualService serves yet. */
export function newVirtualService(target: TargetRef, plan: RoutePlan): IVirtualService {
  return {
    apiVersion: "networking.istio.io/v1",
    kind: "VirtualService",
    metadata: { name: ownedName(target.service), namespace: target.namespace, labels: { [MANAGED_BY_LABEL]: MESHLOOP } },
    spec: { hosts: [plan.host], http: [applyPlan({ name: MESHLOOP_ROUTE }, plan, plan.host, undefined)] },
  };
}

/**
 * The user's VirtualService with meshloop's route changed and nothing else. Refuses when the user's catch-all route
 * sends the target's traffic elsewhere (a redirect, another host): a route appended after it would never be reached.
 * The fields it changes for the first time are recorded, as found, in the `meshloop.io/original` annotation of the
 * same update (see restoreVirtualService); a record already there keeps its originals.
 */
export function mergeVirtualService(existing: IVirtualService, target: TargetRef, plan: RoutePlan, clusterDomain: string): MergeResult {
  const merged = clone(existing);
  const spec = (merged.spec ??= { hosts: [plan.host] });
  const http = (spec.http ??= []);
  const namespace = existing.metadata?.namespace ?? target.namespace;
  const isTarget = (host: string) => sameHost(host, target, namespace, clusterDomain);
  const text = originalAnnotation(existing.metadata);

  let locator: Locator = MESHLOOP_ROUTE;
  let index = http.findIndex((r) => r.name === MESHLOOP_ROUTE);
  if (index === -1) {
    const catchAll = http.findIndex(isCatchAll);
    if (catchAll !== -1) {
      const route = http[catchAll]!;
      const destinations = route.route ?? [];
      if (destinations.length === 0 || !destinations.every((d) => isTarget(d.destination.host))) {
        const name = route.name === undefined ? `http[${catchAll}]` : `http[${catchAll}] "${route.name}"`;
        return { ok: false, reason: `its catch-all route ${name} does not send traffic to ${plan.host}; meshloop will not reroute it, and a route after it would never match` };
      }
      index = catchAll;
      locator = "catch-all";
    }
  }
  const before: Record<string, unknown> = {};
  const after: Record<string, unknown> = {};
  if (index === -1) {
    const added = applyPlan({ name: MESHLOOP_ROUTE }, plan, plan.host, undefined);
    http.push(added);
    before[ADDED_ROUTE] = undefined;
    after[ADDED_ROUTE] = added;
  } else {
    const route = http[index]!;
    const existingTarget = (route.route ?? []).find((d) => isTarget(d.destination.host));
    const changed = applyPlan(route, plan, existingTarget?.destination.host ?? plan.host, existingTarget?.destination.port);
    http[index] = changed;
    if (locator === MESHLOOP_ROUTE && recordedFields(text).includes(ADDED_ROUTE)) {
      // The route meshloop added is meshloop's whole: a release removes it, so it is recorded whole.
      before[ADDED_ROUTE] = route;
      after[ADDED_ROUTE] = changed;
    } else {
      const managed: Record<RouteField, boolean> = { route: plan.weights !== null, retries: plan.retries !== null, timeout: plan.timeout !== null };
      for (const field of ROUTE_FIELDS) {
        // A field meshloop set now, or changed anyway (the default destination of a route without one).
        if (!managed[field] && JSON.stringify(route[field]) === JSON.stringify(changed[field])) continue;
        before[routeFieldKey(locator, field)] = route[field];
        after[routeFieldKey(locator, field)] = changed[field];
      }
    }
  }
  const record = recordMerge(text, before, after);
  if (!record.ok) return { ok: false, reason: `annotation ${ORIGINAL_ANNOTATION}: ${record.reason}` };
  setOriginalAnnotation((merged.metadata ??= {}), record.text);
  return { ok: true, object: merged };
}

/**
 * The user's VirtualService as meshloop found it, for a release: the recorded fields of the route meshloop managed
 * put back, the route it added removed, and the record dropped; null when there is no record (nothing to undo). A
 * field someone changed since meshloop wrote it is theirs now: it stays as they made it, and `notes` says so.
 */
export function restoreVirtualService(existing: IVirtualService): { object: IVirtualService; notes: string[] } | null {
  const text = originalAnnotation(existing.metadata);
  if (!hasRecord(text)) return null;
  const restored = clone(existing);
  const spec = (restored.spec ??= {});
  const http = spec.http ?? [];
  const fields = new Map<string, FieldAccess>();
  const named = http.find((r) => r.name === MESHLOOP_ROUTE);
  fields.set(ADDED_ROUTE, {
    get: () => named,
    set: (value) => {
      // Only removal is meaningful: the route was not there before meshloop added it.
      if (value === undefined) spec.http = (spec.http ?? []).filter((r) => r !== named);
    },
  });
  const located: [Locator, HttpRoute | undefined][] = [[MESHLOOP_ROUTE, named], ["catch-all", http.find(isCatchAll)]];
  for (const [locator, route] of located) {
    if (route === undefined) continue;
    for (const field of ROUTE_FIELDS) {
      fields.set(routeFieldKey(locator, field), {
        get: () => route[field],
        set: (value) => {
          if (value === undefined) delete route[field];
          else (route as Record<string, unknown>)[field] = value;
        },
      });
    }
  }
  const restoration = restoreFields(text, fields);
  if (spec.http !== undefined && spec.http.length === 0) delete spec.http;
  setOriginalAnnotation((restored.metadata ??= {}), null);
  return { object: restored, notes: restorationNotes(`VirtualService ${existing.metadata?.namespace}/${existing.metadata?.name}`, restoration) };
}

/** Subsets of the target that a VirtualService's routes send traffic to: they must outlive any change of weights. */
export function referencedSubsets(vs: IVirtualService | null, target: TargetRef, clusterDomain: string): Set<string> {
  const namespace = vs?.metadata?.namespace ?? target.namespace;
  const out = new Set<string>();
  for (const route of vs?.spec?.http ?? []) {
    for (const d of route.route ?? []) {
      if (d.destination.subset !== undefined && sameHost(d.destination.host, target, namespace, clusterDomain)) out.add(d.destination.subset);
    }
  }
  return out;
}

function applyPlan(route: HttpRoute, plan: RoutePlan, host: string, port: Destination["destination"]["port"]): HttpRoute {
  const out: HttpRoute = { ...route };
  if (plan.weights !== null) {
    out.route = plan.weights.map(({ subset, weight }) => ({
      destination: { host, subset, ...(port === undefined ? {} : { port }) },
      weight,
    }));
  } else if (out.route === undefined || out.route.length === 0) {
    out.route = [{ destination: { host, ...(port === undefined ? {} : { port }) } }];
  }
  if (plan.retries !== null) out.retries = plan.retries;
  if (plan.timeout !== null) out.timeout = plan.timeout;
  return out;
}

/** No match at all, or only matches that every request satisfies (an empty match, prefix `/`). */
function isCatchAll(route: HttpRoute): boolean {
  if (route.redirect !== undefined || route.directResponse !== undefined) return route.match === undefined || route.match.length === 0;
  const matches = route.match ?? [];
  return matches.length === 0 || matches.some((m) => Object.keys(m).every((k) => k === "name" || (k === "uri" && m.uri?.prefix === "/")));
}

/** Whether a destination host names the target: short, namespaced or fully qualified, relative to the VS's namespace. */
export function sameHost(host: string, target: TargetRef, namespace: string, clusterDomain: string): boolean {
  const parts = host.split(".");
  if (parts[0] !== target.service) return false;
  if (parts.length === 1) return namespace === target.namespace;
  if (parts[1] !== target.namespace) return false;
  const rest = parts.slice(2).join(".");
  return rest === "" || rest === "svc" || rest === `svc.${clusterDomain}`;
}
