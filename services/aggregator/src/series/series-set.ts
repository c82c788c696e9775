import type { EdgeSeries, InstanceSeries, Locality, RouteSeries, SpanCounts } from "@meshloop/contracts";
import type { SketchOptions } from "../sketch/ddsketch.ts";
import { Counters } from "./counters.ts";

export type ConnectionType = EdgeSeries["connectionType"];
export type EdgeCaller = EdgeSeries["caller"];
export type EdgeCallee = EdgeSeries["callee"];
export type EdgeDirection = "inbound" | "outbound";

export interface InstanceAcc {
  readonly version: string;
  readonly instance: string;
  readonly locality: Locality;
  readonly counters: Counters;
}

export interface RouteAcc {
  readonly version: string;
  readonly route: string;
  readonly overflow: boolean;
  readonly counters: Counters;
}

export interface EdgeAcc {
  readonly caller: EdgeCaller;
  readonly callee: EdgeCallee;
  readonly connectionType: ConnectionType;
  readonly counters: Counters;
}

/** The series lists of a partial or final aggregate, the part both stages build and read. */
export interface SeriesLists {
  series: InstanceSeries[];
  routes: RouteSeries[];
  inbound: EdgeSeries[];
  outbound: EdgeSeries[];
  spans: SpanCounts;
}

// NUL cannot occur in the names of resources that resolved to a target, so it separates key parts safely.
export function instanceKey(version: string, instance: string): string {
  return `${version}\0${instance}`;
}

export function routeKey(version: string, route: string, overflow: boolean): string {
  return `${version}\0${route}\0${overflow ? 1 : 0}`;
}

export function edgeKey(caller: EdgeCaller, callee: EdgeCallee, connectionType: ConnectionType): string {
  return `${caller.service}\0${caller.namespace ?? ""}\0${callee.service}\0${callee.namespace ?? ""}\0${callee.virtual ? 1 : 0}\0${connectionType}`;
}

/** Edge keys by the identity of their (shared, immutable) caller and callee objects: one string per edge, not per span. */
export class EdgeKeyCache {
  private readonly keys = new Map<EdgeCaller, Map<EdgeCallee, string[]>>();
  private size = 0;

  get(caller: EdgeCaller, callee: EdgeCallee, connectionType: ConnectionType): string {
    let byCallee = this.keys.get(caller);
    if (byCallee === undefined) {
      if (this.size >= 16_384) {
        this.keys.clear();
        this.size = 0;
      }
      byCallee = new Map();
      this.keys.set(caller, byCallee);
    }
    let byType = byCallee.get(callee);
    if (byType === undefined) {
      byType = [];
      byCallee.set(callee, byType);
      this.size++;
    }
    const slot = CONNECTION_TYPES.indexOf(connectionType);
    return (byType[slot] ??= edgeKey(caller, callee, connectionType));
  }
}

const CONNECTION_TYPES: readonly ConnectionType[] = ["direct", "virtual_node", "messaging_system", "database"];

export function emptySpanCounts(): SpanCounts {
  return { accepted: 0, late: 0, skewed: 0, duplicate: 0 };
}

export function addSpanCounts(into: SpanCounts, from: SpanCounts): void {
  into.accepted += from.accepted;
  into.late += from.late;
  into.skewed += from.skewed;
  into.duplicate += from.duplicate;
}

/**
 * Accumulators of one service's series in one window: instances, routes, inbound and outbound edges, span counts.
 * Stage 1 fills it span by span, stage 2 by adding partials' lists; `toLists` sorts by key so that equal contents
 * always serialise to equal JSON (deterministic ids are only useful with deterministic payloads).
 */
export class SeriesSet {
  readonly sketch: SketchOptions;
  readonly instances = new Map<string, InstanceAcc>();
  readonly routes = new Map<string, RouteAcc>();
  readonly inbound = new Map<string, EdgeAcc>();
  readonly outbound = new Map<string, EdgeAcc>();
  readonly spans: SpanCounts = emptySpanCounts();

  constructor(sketch: SketchOptions) {
    this.sketch = sketch;
  }

  instance(key: string, version: string, instance: string, locality: Locality): Counters {
    let acc = this.instances.get(key);
    if (acc === undefined) {
      acc = { version, instance, locality, counters: new Counters(this.sketch) };
      this.instances.set(key, acc);
    }
    return acc.counters;
  }

  route(version: string, route: string, overflow: boolean): Counters {
    const key = routeKey(version, route, overflow);
    let acc = this.routes.get(key);
    if (acc === undefined) {
      acc = { version, route, overflow, counters: new Counters(this.sketch) };
      this.routes.set(key, acc);
    }
    return acc.counters;
  }

  edge(
    direction: EdgeDirection,
    caller: EdgeCaller,
    callee: EdgeCallee,
    connectionType: ConnectionType,
    key: string = edgeKey(caller, callee, connectionType),
  ): Counters {
    const map = direction === "inbound" ? this.inbound : this.outbound;
    let acc = map.get(key);
    if (acc === undefined) {
      acc = { caller, callee, connectionType, counters: new Counters(this.sketch) };
      map.set(key, acc);
    }
    return acc.counters;
  }

  /** Adds another set's lists (a partial, a snapshot, a late partial carried forward). */
  addLists(lists: SeriesLists): void {
    for (const s of lists.series) {
      this.instance(instanceKey(s.version, s.instance), s.version, s.instance, s.locality).addWire(s.counters);
    }
    for (const r of lists.routes) this.route(r.version, r.route, r.overflow).addWire(r.counters);
    for (const e of lists.inbound) this.edge("inbound", e.caller, e.callee, e.connectionType).addWire(e.counters);
    for (const e of lists.outbound) this.edge("outbound", e.caller, e.callee, e.connectionType).addWire(e.counters);
    addSpanCounts(this.spans, lists.spans);
  }

  get isEmpty(): boolean {
    return (
      this.instances.size === 0 &&
      this.routes.size === 0 &&
      this.inbound.size === 0 &&
      this.outbound.size === 0 &&
      this.spans.accepted === 0 &&
      this.spans.duplicate === 0
    );
  }

  toLists(): SeriesLists {
    return {
      series: sorted(this.instances).map(({ version, instance, locality, counters }) => ({
        version,
        instance,
        locality: { ...locality },
        counters: counters.toWire(),
      })),
      routes: sorted(this.routes).map(({ version, route, overflow, counters }) => ({
        version,
        route,
        overflow,
        counters: counters.toWire(),
      })),
      inbound: sorted(this.inbound).map(edgeWire),
      outbound: sorted(this.outbound).map(edgeWire),
      spans: { ...this.spans },
    };
  }
}

function edgeWire({ caller, callee, connectionType, counters }: EdgeAcc): EdgeSeries {
  return { caller: { ...caller }, callee: { ...callee }, connectionType, counters: counters.toWire() };
}

export function sorted<T>(map: ReadonlyMap<string, T>): T[] {
  return [...map.keys()].sort().map((k) => map.get(k)!);
}
