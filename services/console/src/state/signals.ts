import { targetKey } from "@meshloop/contracts";
import type { EdgeSeries, LatencySketch, WindowAggregate } from "@meshloop/contracts";
import { mergeSketches, sketchQuantile } from "@meshloop/decision";

/**
 * The golden signals of the last minutes, per service and version, reduced from final window aggregates to what the
 * console draws (rate, error %, p50, p99), and the dependency graph of the edges the aggregates carry. Pure.
 */

export const SIGNAL_RETENTION_MS = 600_000;
/** The graph's rate and error rate are over this much event time, as the aggregator's /graph does by default. */
export const GRAPH_RATE_WINDOW_MS = 60_000;
// A window's parts are published together by stage 2; past this its sketch is dropped and its quantiles kept.
const SKETCH_KEEP_MS = 30_000;

export interface SignalPoint {
  readonly windowStartMs: number;
  readonly windowMs: number;
  readonly requests: number;
  readonly errors: number;
  /** Requests per second. */
  readonly rate: number;
  /** null without requests. */
  readonly errorPct: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
}

export interface SignalSeries {
  readonly key: string;
  readonly targetKey: string;
  /** The telemetry service.name (the graph's node names). */
  readonly service: string;
  readonly version: string;
  readonly points: readonly SignalPoint[];
}

export interface SignalUpdate {
  readonly key: string;
  readonly targetKey: string;
  readonly service: string;
  readonly version: string;
  readonly point: SignalPoint;
}

export interface GraphNodeView {
  readonly service: string;
  readonly namespace: string | null;
  readonly virtual: boolean;
}

export interface GraphEdgeView {
  readonly caller: { readonly service: string; readonly namespace: string | null };
  readonly callee: GraphNodeView;
  readonly connectionType: string;
  readonly rate: number;
  readonly errorRate: number | null;
  readonly requestsTotal: number;
  readonly errorsTotal: number;
}

/** The shape of the aggregator's GET /graph, which the console serves the same whether it proxies it or builds it. */
export interface GraphView {
  readonly source: "aggregator" | "aggregates";
  readonly asOfMs: number | null;
  readonly rateWindowMs: number;
  readonly nodes: readonly GraphNodeView[];
  readonly edges: readonly GraphEdgeView[];
  /** Why the aggregator's graph is not shown (it did not answer), when source is "aggregates" though one is set. */
  readonly error?: string;
}

interface WindowCell {
  windowMs: number;
  requests: number;
  errors: number;
  /** Dropped once the window is old enough that no part of it will come. */
  sketch: LatencySketch | null;
  p50: number | null;
  p99: number | null;
}

interface SeriesState {
  readonly targetKey: string;
  readonly service: string;
  readonly version: string;
  readonly windows: Map<number, WindowCell>;
}

interface EdgeState {
  readonly caller: GraphEdgeView["caller"];
  readonly callee: GraphNodeView;
  readonly connectionType: string;
  /** Per window start: [requests, errors], the larger of the caller's and the callee's copy. */
  readonly windows: Map<number, [number, number]>;
}

export class SignalBook {
  readonly #series = new Map<string, SeriesState>();
  readonly #edges = new Map<string, EdgeState>();
  /** Aggregate parts already folded, by id with their window end: a redelivered part is not counted twice. */
  readonly #seen = new Map<string, number>();
  #horizonMs = Number.NEGATIVE_INFINITY;

  /** Folds one aggregate part in; returns the points it changed (none for a redelivery or a window too old). */
  observe(aggregate: WindowAggregate): SignalUpdate[] {
    const endMs = aggregate.windowStartMs + aggregate.windowMs;
    if (this.#seen.has(aggregate.id) || endMs < this.#horizonMs - SIGNAL_RETENTION_MS) return [];
    this.#seen.set(aggregate.id, endMs);
    const key = targetKey(aggregate.target);
    const byVersion = new Map<string, { requests: number; errors: number; sketches: LatencySketch[] }>();
    for (const s of aggregate.series) {
      const sum = byVersion.get(s.version) ?? { requests: 0, errors: 0, sketches: [] };
      sum.requests += s.counters.requests;
      sum.errors += s.counters.errors;
      sum.sketches.push(s.counters.latency);
      byVersion.set(s.version, sum);
    }
    const updates: SignalUpdate[] = [];
    for (const [version, sum] of byVersion) {
      const seriesKey = `${key}|${version}`;
      const series = this.#series.get(seriesKey) ?? { targetKey: key, service: aggregate.service, version, windows: new Map<number, WindowCell>() };
      this.#series.set(seriesKey, series);
      const cell = series.windows.get(aggregate.windowStartMs) ?? { windowMs: aggregate.windowMs, requests: 0, errors: 0, sketch: null, p50: null, p99: null };
      cell.requests += sum.requests;
      cell.errors += sum.errors;
      // A part of a window whose sketch was dropped still adds its counts; its latencies no longer move the quantiles.
      if (cell.sketch !== null || !series.windows.has(aggregate.windowStartMs)) {
        cell.sketch = mergeSketches([...(cell.sketch === null ? [] : [cell.sketch]), ...sum.sketches]);
        cell.p50 = sketchQuantile(cell.sketch, 0.5);
        cell.p99 = sketchQuantile(cell.sketch, 0.99);
      }
      series.windows.set(aggregate.windowStartMs, cell);
      updates.push({ key: seriesKey, targetKey: key, service: series.service, version, point: pointOf(aggregate.windowStartMs, cell) });
    }
    for (const edge of [...aggregate.inbound, ...aggregate.outbound]) this.#observeEdge(edge, aggregate.windowStartMs);
    if (endMs > this.#horizonMs) {
      this.#horizonMs = endMs;
      this.#prune();
    }
    return updates;
  }

  /** The end of the newest window read: the console's event-time clock. */
  get horizonMs(): number | null {
    return Number.isFinite(this.#horizonMs) ? this.#horizonMs : null;
  }

  series(): SignalSeries[] {
    return [...this.#series.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, s]) => ({
        key,
        targetKey: s.targetKey,
        service: s.service,
        version: s.version,
        points: [...s.windows.entries()].sort(([a], [b]) => a - b).map(([start, cell]) => pointOf(start, cell)),
      }));
  }

  /** The graph from the aggregates' edges: rate and error rate over the last GRAPH_RATE_WINDOW_MS of event time. */
  graph(): GraphView {
    const from = this.#horizonMs - GRAPH_RATE_WINDOW_MS;
    const nodes = new Map<string, GraphNodeView>();
    const edges: GraphEdgeView[] = [];
    for (const key of [...this.#edges.keys()].sort()) {
      const e = this.#edges.get(key)!;
      let requests = 0;
      let errors = 0;
      let requestsTotal = 0;
      let errorsTotal = 0;
      for (const [start, [r, x]] of e.windows) {
        requestsTotal += r;
        errorsTotal += x;
        if (start >= from) {
          requests += r;
          errors += x;
        }
      }
      edges.push({
        caller: { ...e.caller },
        callee: { ...e.callee },
        connectionType: e.connectionType,
        rate: requests / (GRAPH_RATE_WINDOW_MS / 1000),
        errorRate: requests > 0 ? errors / requests : null,
        requestsTotal,
        errorsTotal,
      });
      for (const node of [{ ...e.caller, virtual: false }, e.callee]) nodes.set(nodeKey(node), { service: node.service, namespace: node.namespace, virtual: node.virtual });
    }
    // Services with telemetry but no edge (yet) are nodes too.
    for (const s of this.#series.values()) {
      if (![...nodes.values()].some((n) => n.service === s.service && !n.virtual)) nodes.set(nodeKey({ service: s.service, namespace: null, virtual: false }), { service: s.service, namespace: null, virtual: false });
    }
    return {
      source: "aggregates",
      asOfMs: this.horizonMs,
      rateWindowMs: GRAPH_RATE_WINDOW_MS,
      nodes: [...nodes.keys()].sort().map((k) => nodes.get(k)!),
      edges,
    };
  }

  #observeEdge(e: EdgeSeries, windowStartMs: number): void {
    if (e.counters.requests <= 0) return;
    const key = `${e.caller.namespace ?? ""}/${e.caller.service}->${e.callee.namespace ?? ""}/${e.callee.service}${e.callee.virtual ? "(virtual)" : ""}:${e.connectionType}`;
    const state = this.#edges.get(key) ?? { caller: { ...e.caller }, callee: { ...e.callee }, connectionType: e.connectionType, windows: new Map<number, [number, number]>() };
    this.#edges.set(key, state);
    // Each edge comes in its caller's and its callee's aggregate: a window counts once, the larger copy.
    const held = state.windows.get(windowStartMs);
    state.windows.set(windowStartMs, held === undefined ? [e.counters.requests, e.counters.errors] : [Math.max(held[0], e.counters.requests), Math.max(held[1], e.counters.errors)]);
  }

  #prune(): void {
    const keepFrom = this.#horizonMs - SIGNAL_RETENTION_MS;
    const sketchFrom = this.#horizonMs - SKETCH_KEEP_MS;
    for (const [key, s] of this.#series) {
      for (const [start, cell] of s.windows) {
        if (start + cell.windowMs < keepFrom) s.windows.delete(start);
        else if (start + cell.windowMs < sketchFrom) cell.sketch = null;
      }
      if (s.windows.size === 0) this.#series.delete(key);
    }
    for (const [key, e] of this.#edges) {
      for (const start of e.windows.keys()) if (start < keepFrom) e.windows.delete(start);
      if (e.windows.size === 0) this.#edges.delete(key);
    }
    for (const [id, end] of this.#seen) if (end < keepFrom) this.#seen.delete(id);
  }
}

function pointOf(windowStartMs: number, cell: WindowCell): SignalPoint {
  return {
    windowStartMs,
    windowMs: cell.windowMs,
    requests: cell.requests,
    errors: cell.errors,
    rate: cell.requests / (cell.windowMs / 1000),
    errorPct: cell.requests > 0 ? (100 * cell.errors) / cell.requests : null,
    p50: cell.p50,
    p99: cell.p99,
  };
}

function nodeKey(node: GraphNodeView): string {
  return `${node.service}\0${node.namespace ?? ""}\0${node.virtual ? 1 : 0}`;
}
