/**
 * What the lab runs: services, their versions and instance counts, their routes and the calls each route makes.
 * A service with `instrumented: false` still runs real HTTP servers but exports no spans, as a third-party
 * dependency would; its callers name it with `peer.service`.
 */

export interface LatencySpec {
  medianMs: number;
  p99Ms: number;
}

export interface CallSpec {
  service: string;
  method: string;
  path: string;
  /** `ignore`: the route still succeeds when this call fails (a dependency that fails open). Default `fail`. */
  onFailure?: "fail" | "ignore";
}

export interface RouteSpec {
  method: string;
  /** Also the span's `http.route`: lab routes have no parameters. */
  path: string;
  /** Made one after another, each through the data plane. */
  calls: CallSpec[];
  /** The route's own work, before its calls; absent: the service's `latency`. */
  latency?: LatencySpec;
}

export interface VersionSpec {
  version: string;
  instances: number;
}

export interface ServiceSpec {
  name: string;
  /** Oldest first: the last one is the newest (the canary). */
  versions: VersionSpec[];
  routes: RouteSpec[];
  instrumented: boolean;
  latency: LatencySpec;
}

export interface Topology {
  mesh: "lab";
  namespace: string;
  services: ServiceSpec[];
  /** Where the load generator sends its requests. */
  entry: string;
}

const FAST: LatencySpec = { medianMs: 2, p99Ms: 10 };

export function defaultTopology(): Topology {
  return {
    mesh: "lab",
    namespace: "lab",
    entry: "frontend",
    services: [
      {
        name: "frontend",
        versions: [{ version: "v1", instances: 2 }],
        instrumented: true,
        latency: FAST,
        routes: [
          { method: "POST", path: "/checkout", calls: [{ service: "checkout", method: "POST", path: "/checkout" }] },
          { method: "GET", path: "/products", calls: [] },
        ],
      },
      {
        name: "checkout",
        versions: [{ version: "v1", instances: 2 }],
        instrumented: true,
        latency: FAST,
        routes: [
          {
            method: "POST",
            path: "/checkout",
            calls: [
              { service: "fraud-api", method: "POST", path: "/score", onFailure: "ignore" },
              { service: "payments", method: "POST", path: "/pay" },
            ],
          },
        ],
      },
      {
        name: "payments",
        versions: [
          { version: "v1", instances: 3 },
          { version: "v2", instances: 2 },
        ],
        instrumented: true,
        latency: { medianMs: 5, p99Ms: 20 },
        routes: [{ method: "POST", path: "/pay", calls: [{ service: "ledger", method: "POST", path: "/entries" }] }],
      },
      {
        name: "ledger",
        versions: [{ version: "v1", instances: 1 }],
        instrumented: true,
        latency: FAST,
        routes: [{ method: "POST", path: "/entries", calls: [] }],
      },
      {
        name: "fraud-api",
        versions: [{ version: "v1", instances: 1 }],
        instrumented: false,
        latency: FAST,
        routes: [{ method: "POST", path: "/score", calls: [] }],
      },
    ],
  };
}

export function findService(topology: Topology, name: string): ServiceSpec | undefined {
  return topology.services.find((s) => s.name === name);
}

export function findRoute(service: ServiceSpec, method: string, path: string): RouteSpec | undefined {
  return service.routes.find((r) => r.method === method && r.path === path);
}

/** Problems with a topology, one line each; empty when it is usable. Calls must name existing routes, without cycles. */
export function topologyProblems(topology: Topology): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const service of topology.services) {
    if (names.has(service.name)) problems.push(`service ${service.name} is listed twice`);
    names.add(service.name);
    if (service.versions.length === 0) problems.push(`service ${service.name} has no version`);
    const versions = new Set(service.versions.map((v) => v.version));
    if (versions.size !== service.versions.length) problems.push(`service ${service.name} lists a version twice`);
    for (const v of service.versions) {
      if (!Number.isInteger(v.instances) || v.instances < 0) {
        problems.push(`service ${service.name} version ${v.version}: instances must be a whole number >= 0`);
      }
    }
    for (const route of service.routes) {
      for (const call of route.calls) {
        const callee = findService(topology, call.service);
        if (!callee) problems.push(`${service.name} ${route.method} ${route.path} calls unknown service ${call.service}`);
        else if (!findRoute(callee, call.method, call.path)) {
          problems.push(`${service.name} ${route.method} ${route.path} calls unknown route ${call.method} ${call.path} of ${call.service}`);
        }
      }
    }
  }
  if (!names.has(topology.entry)) problems.push(`entry service ${topology.entry} is not in the topology`);
  if (problems.length === 0 && hasCycle(topology)) problems.push("calls between services form a cycle");
  return problems;
}

function hasCycle(topology: Topology): boolean {
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string): boolean => {
    const s = state.get(name);
    if (s === "visiting") return true;
    if (s === "done") return false;
    state.set(name, "visiting");
    const service = findService(topology, name);
    const callees = service ? service.routes.flatMap((r) => r.calls.map((c) => c.service)) : [];
    const cyclic = callees.some(visit);
    state.set(name, "done");
    return cyclic;
  };
  return topology.services.some((s) => visit(s.name));
}

/**
 * Spans one successful request to `service`'s route produces: a SERVER span if the service is instrumented, plus for
 * each call a CLIENT span (if the caller is instrumented) and whatever the callee's route produces.
 */
export function expectedSpans(topology: Topology, service: string, method: string, path: string): number {
  const spec = findService(topology, service);
  const route = spec && findRoute(spec, method, path);
  if (!spec || !route) return 0;
  let count = spec.instrumented ? 1 : 0;
  for (const call of route.calls) {
    count += (spec.instrumented ? 1 : 0) + expectedSpans(topology, call.service, call.method, call.path);
  }
  return count;
}
