/**
 * The cardinality cap on routes, per service: the first `limit` distinct routes a service shows get their own
 * series, later ones go to the `other` series (counted: its requests are the overflow). Routes are remembered across
 * windows, so the same routes keep their series from one window to the next, and forgotten after `ttlMs` without a
 * span, which frees their place. Memory is at most `limit` routes per service.
 */
export interface RouteRegistrySnapshot {
  readonly services: Array<[service: string, routes: Array<[route: string, lastSeenMs: number]>]>;
}

export class RouteRegistry {
  readonly limit: number;
  readonly ttlMs: number;
  private readonly services = new Map<string, Map<string, number>>();

  constructor(limit: number, ttlMs: number) {
    this.limit = limit;
    this.ttlMs = ttlMs;
  }

  /** Whether `route` has (or now gets) its own series in `service`. */
  admit(service: string, route: string, timeMs: number): boolean {
    let routes = this.services.get(service);
    if (routes === undefined) {
      routes = new Map();
      this.services.set(service, routes);
    }
    const lastSeen = routes.get(route);
    if (lastSeen !== undefined) {
      if (timeMs > lastSeen) routes.set(route, timeMs);
      return true;
    }
    if (routes.size >= this.limit) return false;
    routes.set(route, timeMs);
    return true;
  }

  /** Distinct routes remembered for a service. */
  size(service: string): number {
    return this.services.get(service)?.size ?? 0;
  }

  /** Forgets routes not seen since `nowMs - ttlMs`. */
  expire(nowMs: number): void {
    const cutoff = nowMs - this.ttlMs;
    for (const [service, routes] of this.services) {
      for (const [route, lastSeen] of routes) if (lastSeen < cutoff) routes.delete(route);
      if (routes.size === 0) this.services.delete(service);
    }
  }

  snapshot(): RouteRegistrySnapshot {
    return { services: [...this.services].map(([service, routes]) => [service, [...routes]]) };
  }

  static restore(limit: number, ttlMs: number, snapshot: RouteRegistrySnapshot): RouteRegistry {
    const registry = new RouteRegistry(limit, ttlMs);
    for (const [service, routes] of snapshot.services) registry.services.set(service, new Map(routes));
    return registry;
  }
}
