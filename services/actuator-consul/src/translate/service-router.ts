import type { RetryPolicy } from "@meshloop/contracts";
import { formatDuration } from "@meshloop/actuator-kit";
import type { RouteDestination, ServiceRoute, ServiceRouter } from "../config-entries.ts";
import type { ConsulContext } from "../context.ts";
import { newEntry } from "./entries.ts";

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
  const route = routes[index]!;
  route.Destination = applyPlan({ ...route.Destination }, plan, warnings);
  return { ok: true, entry, warnings };
}

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
