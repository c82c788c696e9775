import type { EdgeSeries, InstanceSeries, RouteSeries } from "@meshloop/contracts";
import { OTHER_ROUTE } from "@meshloop/contracts";
import type { SeriesSet } from "../series/series-set.ts";
import { edgeKey, instanceKey, routeKey } from "../series/series-set.ts";

type Descriptor =
  | { kind: "instance"; series: Omit<InstanceSeries, "counters"> }
  | { kind: "route"; series: Omit<RouteSeries, "counters"> }
  | { kind: "inbound" | "outbound"; series: Omit<EdgeSeries, "counters"> };

export type KnownSeriesEntry = Descriptor & { lastSeenMs: number };

/**
 * The series a service has shown, so that a window without data still reports them with zero requests: a service
 * (or a canary, or an edge) going dark must show up as zero traffic, not as nothing. A series is forgotten once it
 * has had no data for `ttlMs`.
 */
export class KnownSeries {
  readonly ttlMs: number;
  private readonly entries = new Map<string, KnownSeriesEntry>();

  constructor(ttlMs: number) {
    this.ttlMs = ttlMs;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Notes every series with data in `set` as seen in the window starting at `windowStartMs`. */
  see(set: SeriesSet, windowStartMs: number): void {
    for (const [key, s] of set.instances) {
      this.note(`i\0${key}`, { kind: "instance", series: { version: s.version, instance: s.instance, locality: s.locality } }, windowStartMs);
    }
    for (const [key, r] of set.routes) {
      this.note(`r\0${key}`, { kind: "route", series: { version: r.version, route: r.route, overflow: r.overflow } }, windowStartMs);
    }
    for (const [key, e] of set.inbound) {
      this.note(`in\0${key}`, { kind: "inbound", series: { caller: e.caller, callee: e.callee, connectionType: e.connectionType } }, windowStartMs);
    }
    for (const [key, e] of set.outbound) {
      this.note(`out\0${key}`, { kind: "outbound", series: { caller: e.caller, callee: e.callee, connectionType: e.connectionType } }, windowStartMs);
    }
  }

  /**
   * Forgets series unseen for the TTL, then adds the others to `set` where missing, with zero counters. Zero routes
   * are added only while the service stays within `routeLimit` distinct routes.
   */
  fillZeros(set: SeriesSet, windowStartMs: number, routeLimit: number): void {
    this.expire(windowStartMs);
    const routeNames = new Set([...set.routes.values()].filter((r) => !r.overflow).map((r) => r.route));
    for (const entry of this.entries.values()) {
      if (entry.kind === "instance") {
        const s = entry.series;
        if (!set.instances.has(instanceKey(s.version, s.instance))) {
          set.instance(instanceKey(s.version, s.instance), s.version, s.instance, s.locality);
        }
      } else if (entry.kind === "route") {
        const r = entry.series;
        if (set.routes.has(routeKey(r.version, r.route, r.overflow))) continue;
        if (!r.overflow && r.route !== OTHER_ROUTE && !routeNames.has(r.route)) {
          if (routeNames.size >= routeLimit) continue;
          routeNames.add(r.route);
        }
        set.route(r.version, r.route, r.overflow);
      } else {
        const e = entry.series;
        const map = entry.kind === "inbound" ? set.inbound : set.outbound;
        if (!map.has(edgeKey(e.caller, e.callee, e.connectionType))) set.edge(entry.kind, e.caller, e.callee, e.connectionType);
      }
    }
  }

  /** Forgets the series without data in the `ttlMs` before the window starting at `windowStartMs`. */
  expire(windowStartMs: number): void {
    const cutoff = windowStartMs - this.ttlMs;
    for (const [key, entry] of this.entries) if (entry.lastSeenMs < cutoff) this.entries.delete(key);
  }

  snapshot(): Array<[string, KnownSeriesEntry]> {
    return [...this.entries];
  }

  static restore(ttlMs: number, snapshot: Array<[string, KnownSeriesEntry]>): KnownSeries {
    const known = new KnownSeries(ttlMs);
    for (const [key, entry] of snapshot) known.entries.set(key, entry);
    return known;
  }

  private note(key: string, descriptor: Descriptor, windowStartMs: number): void {
    const entry = this.entries.get(key);
    if (entry === undefined) this.entries.set(key, { ...descriptor, lastSeenMs: windowStartMs });
    else if (windowStartMs > entry.lastSeenMs) entry.lastSeenMs = windowStartMs;
  }
}
