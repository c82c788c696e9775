import type { RetryPolicy } from "@meshloop/contracts";
import { formatDuration, recordedFields } from "@meshloop/actuator-kit";
import type { FieldAccess } from "@meshloop/actuator-kit";
import type { RouteDestination, ServiceRoute, ServiceRouter } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { newEntry } from "./entries.ts";
import { keyAccess, recordEntryMerge, recordText, restoreEntry } from "./original.ts";

/**
 * Retries and the request timeout in Consul live on a service-router route's Destination. meshloop manages the
 * catch-all route (no match, or path prefix `/`): the user's, or one it appends after the user's routes so that it
 * never takes their traffic. Matched routes keep their own settings.
 */
export interface RouterPlan {
  retries: RetryPolicy | null;
  timeoutMs: number | null;
}

export type RouterResult = { ok: true; entry: ServiceRouter; warnings: string[] } | { ok: false; reason: string };

const RETRY_FIELDS = ["NumRetries", "RetryOn", "RetryOnConnectFailure", "RetryOnStatusCodes"] as const;

export function mergeRouter(existing: ServiceRouter | null, name: string, context: ConsulContext, plan: RouterPlan): RouterResult {
  const entry: ServiceRouter = existing === null ? { ...newEntry("service-router", name, context) } : structuredClone(existing);
  const routes = (entry.Routes ??= []);
  let index = routes.findIndex(isCatchAll);
  const appended = index === -1;
  if (index !== -1) {
    const destination = routes[index]!.Destination ?? {};
    const elsewhere = (destination.Service !== undefined && destination.Service !== name) || destination.ServiceSubset !== undefined;
    if (elsewhere) {
      const to = `${destination.Service ?? name}${destination.ServiceSubset === undefined ? "" : ` subset ${destination.ServiceSubset}`}`;
      return { ok: false, reason: `its catch-all route Routes[${index}] sends traffic to ${to}, past the splitter; meshloop will not reroute it` };
    }
  } else {
    routes.push({ Match: { HTTP: { PathPrefix: "/" } } });
    index = routes.length - 1;
  }
  const warnings: string[] = [];
  const found = appended ? undefined : existing?.Routes?.[index];
  const route = routes[index]!;
  route.Destination = applyPlan({ ...route.Destination }, plan, warnings);
  // A route meshloop appended is recorded whole (a release removes it); in the user's, only its Destination.
  const whole = appended || recordedFields(recordText(existing?.Meta)).includes(ADDED_ROUTE);
  const [key, before, after] = whole ? [ADDED_ROUTE, found, route] : [DESTINATION, found?.Destination, route.Destination];
  const problem = recordEntryMerge(existing, entry, { [key]: before }, { [key]: after });
  return problem === null ? { ok: true, entry, warnings } : { ok: false, reason: problem };
}

/**
 * A user's router as meshloop found it, for a release: the catch-all route's Destination put back, or the route
 * meshloop appended removed, and the record dropped; null when there is nothing to put back.
 */
export function restoreRouter(found: ServiceRouter | null): { entry: ServiceRouter; notes: string[] } | null {
  const restored = restoreEntry(found, (copy) => {
    const fields = new Map<string, FieldAccess>();
    const route = (copy.Routes ?? []).find(isCatchAll);
    fields.set(ADDED_ROUTE, {
      get: () => route,
      set: (value) => {
        // Only removal is meaningful: the route was not there before meshloop appended it.
        if (value === undefined) copy.Routes = (copy.Routes ?? []).filter((r) => r !== route);
      },
    });
    if (route !== undefined) fields.set(DESTINATION, keyAccess(route as Record<string, unknown>, "Destination"));
    return fields;
  });
  if (restored?.entry.Routes?.length === 0) delete restored.entry.Routes;
  return restored;
}

// The names of the fields in meshloop's record: the catch-all route's Destination, or the route it appended, whole.
const DESTINATION = "Routes[catch-all].Destination";
const ADDED_ROUTE = "Routes[catch-all]";

function applyPlan(destination: RouteDestination, plan: RouterPlan, warnings: string[]): RouteDestination {
  if (plan.retries !== null) {
    for (const field of RETRY_FIELDS) delete destination[field];
    const retries = plan.retries;
    // Without conditions there is no retry policy at all: that is how zero attempts switch retries off.
    if (retries.attempts > 0) {
      destination.NumRetries = retries.attempts;
      const conditions = retries.retryOn.filter((c) => c !== "retriable-status-codes");
      if (conditions.length > 0) destination.RetryOn = conditions;
      if (retries.retriableStatusCodes.length > 0) destination.RetryOnStatusCodes = [...new Set(retries.retriableStatusCodes)].sort((a, b) => a - b);
      if (retries.perTryTimeoutMs !== null) warnings.push("Consul's router has no per-try timeout; each try may use the whole request timeout");
    }
  }
  if (plan.timeoutMs !== null) destination.RequestTimeout = formatDuration(plan.timeoutMs);
  return destination;
}

function isCatchAll(route: ServiceRoute): boolean {
  const http = route.Match?.HTTP;
  if (http === undefined) return true;
  return Object.keys(http).every((k) => k === "PathPrefix") && (http.PathPrefix === undefined || http.PathPrefix === "/");
}
