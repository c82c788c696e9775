import { OTHER_ROUTE } from "@meshloop/contracts";
import type { RouteAcc, SeriesSet } from "../series/series-set.ts";
import { routeKey } from "../series/series-set.ts";

/**
 * Caps a merged window's distinct routes at `limit`. Each stage-1 partition admits routes on its own, so the union
 * over partitions can exceed the cap; the routes with the most requests (ties by name) keep their series, the others
 * merge into the `other` series of their version. Returns how many route series were folded.
 */
export function applyRouteLimit(set: SeriesSet, limit: number): number {
  const totals = new Map<string, number>();
  for (const r of set.routes.values()) {
    if (!r.overflow) totals.set(r.route, (totals.get(r.route) ?? 0) + r.counters.requests);
  }
  if (totals.size <= limit) return 0;
  const kept = new Set(
    [...totals]
      .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, limit)
      .map(([route]) => route),
  );
  const routes: RouteAcc[] = [...set.routes.values()];
  set.routes.clear();
  // Kept routes first, then the folded ones into `other`, so that `other` is built in a reproducible order.
  const folded: RouteAcc[] = [];
  for (const r of routes) {
    if (r.overflow || kept.has(r.route)) set.routes.set(routeKey(r.version, r.route, r.overflow), r);
    else folded.push(r);
  }
  folded.sort((a, b) => (a.route < b.route ? -1 : a.route > b.route ? 1 : a.version < b.version ? -1 : 1));
  for (const r of folded) set.route(r.version, OTHER_ROUTE, true).merge(r.counters);
  return folded.length;
}
