import type { Random } from "./random.ts";
import { logNormal } from "./random.ts";

/**
 * Faults per instance and per route, over time. A fault names what it hits (a service, optionally narrowed to a
 * version, an instance, a route) and when (epoch ms, both ends optional). Latency is served with timers, never by
 * burning CPU, so that a slow test machine does not pass for a fault.
 */

export type FaultEffect =
  /** A share (0..1) of requests answered with `status`. Several error faults roll independently, the first hit wins. */
  | { kind: "errors"; rate: number; status: number }
  /** Replaces the route's latency distribution: log-normal with this median and 99th percentile. */
  | { kind: "latency"; medianMs: number; p99Ms: number }
  /**
   * Beyond `maxConcurrency` requests in flight at the instance, each excess request adds `latencyPerExcessMs` and
   * `errorRatePerExcess` (answered `status`), so saturation and retry storms feed on themselves.
   */
  | { kind: "capacity"; maxConcurrency: number; latencyPerExcessMs: number; errorRatePerExcess: number; status: number }
  /** The instance stops answering (its server closes, connections reset) and restarts when the fault ends. */
  | { kind: "crash" }
  /** The instance's span timestamps are off by `offsetMs` (its clock, not its behaviour). */
  | { kind: "clock-skew"; offsetMs: number };

export interface FaultScope {
  service: string;
  version?: string;
  instanceId?: string;
  /** A route's path; absent: every route. Crash and clock skew apply to whole instances and ignore it. */
  route?: string;
}

export interface Fault {
  id: string;
  scope: FaultScope;
  effect: FaultEffect;
  fromMs?: number;
  untilMs?: number;
}

export type FaultInput = Omit<Fault, "id"> & { id?: string };

export interface InstanceRef {
  service: string;
  version: string;
  instanceId: string;
}

export interface RequestContext extends InstanceRef {
  route: string;
  /** Requests in flight at the instance, this one included. */
  inFlight: number;
}

export interface RequestPlan {
  delayMs: number;
  /** Answer with this status instead of doing the route's work; null: serve normally. */
  errorStatus: number | null;
}

export function faultActive(fault: Fault, nowMs: number): boolean {
  return (fault.fromMs === undefined || nowMs >= fault.fromMs) && (fault.untilMs === undefined || nowMs < fault.untilMs);
}

export function faultHits(scope: FaultScope, instance: InstanceRef, route?: string): boolean {
  return (
    scope.service === instance.service &&
    (scope.version === undefined || scope.version === instance.version) &&
    (scope.instanceId === undefined || scope.instanceId === instance.instanceId) &&
    (scope.route === undefined || route === undefined || scope.route === route)
  );
}

/**
 * What happens to one request: the faults active at `nowMs` that hit its instance and route, applied to the route's
 * base latency. Pure given `random`.
 */
export function planRequest(
  faults: readonly Fault[],
  request: RequestContext,
  base: { medianMs: number; p99Ms: number },
  nowMs: number,
  random: Random,
): RequestPlan {
  const hitting = faults.filter((f) => faultActive(f, nowMs) && faultHits(f.scope, request, request.route));
  let latency = base;
  let errorStatus: number | null = null;
  let extraMs = 0;
  for (const { effect } of hitting) {
    if (effect.kind === "latency") latency = effect;
    else if (effect.kind === "errors" && errorStatus === null && random() < effect.rate) errorStatus = effect.status;
    else if (effect.kind === "capacity" && request.inFlight > effect.maxConcurrency) {
      const excess = request.inFlight - effect.maxConcurrency;
      extraMs += excess * effect.latencyPerExcessMs;
      if (errorStatus === null && random() < Math.min(1, excess * effect.errorRatePerExcess)) errorStatus = effect.status;
    }
  }
  return { delayMs: logNormal(random, latency.medianMs, latency.p99Ms) + extraMs, errorStatus };
}

/** Holds the lab's faults; instances ask it per request, the lab's ticker per instance for crashes. */
export class FaultInjector {
  private faults: Fault[] = [];
  private nextId = 1;

  add(input: FaultInput): string {
    const id = input.id ?? `fault-${this.nextId++}`;
    if (this.faults.some((f) => f.id === id)) throw new Error(`fault ${id} exists already`);
    this.faults.push({ ...input, id });
    return id;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((f) => f.id !== id);
    return this.faults.length !== before;
  }

  clear(): void {
    this.faults = [];
  }

  list(): readonly Fault[] {
    return this.faults;
  }

  plan(request: RequestContext, base: { medianMs: number; p99Ms: number }, nowMs: number, random: Random): RequestPlan {
    return planRequest(this.faults, request, base, nowMs, random);
  }

  crashed(instance: InstanceRef, nowMs: number): boolean {
    return this.faults.some((f) => f.effect.kind === "crash" && faultActive(f, nowMs) && faultHits(f.scope, instance));
  }

  skewMs(instance: InstanceRef, nowMs: number): number {
    let skew = 0;
    for (const f of this.faults) {
      if (f.effect.kind === "clock-skew" && faultActive(f, nowMs) && faultHits(f.scope, instance)) skew += f.effect.offsetMs;
    }
    return skew;
  }
}
