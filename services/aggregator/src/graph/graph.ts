import type { EdgeSeries, WindowAggregate } from "@meshloop/contracts";
import type { GraphOptions, GraphOptionsInput } from "../options.ts";
import { graphOptionsSchema, parseOptions } from "../options.ts";
import type { ConnectionType, EdgeCallee, EdgeCaller } from "../series/series-set.ts";
import { edgeKey } from "../series/series-set.ts";

/** One window's traffic on an edge: [window start, requests, errors]. */
type Bucket = [windowStartMs: number, requests: number, errors: number];

interface EdgeState {
  readonly caller: EdgeCaller;
  readonly callee: EdgeCallee;
  readonly connectionType: ConnectionType;
  firstSeenMs: number;
  /** End of the last window with traffic. */
  lastSeenMs: number;
  requestsTotal: number;
  errorsTotal: number;
  /** Recent windows, by start, for the rate and to count each window once. */
  buckets: Bucket[];
}

export interface GraphNode {
  service: string;
  namespace: string | null;
  /** Uninstrumented: named by its callers (`peer.service`, `server.address`, `db.system`). */
  virtual: boolean;
}

export interface GraphEdge {
  caller: EdgeCaller;
  callee: EdgeCallee;
  connectionType: ConnectionType;
  firstSeenMs: number;
  lastSeenMs: number;
  /** Requests per second over the last `rateWindowMs` of event time. */
  rate: number;
  /** errors / requests over the same stretch; null without requests. */
  errorRate: number | null;
  requestsTotal: number;
  errorsTotal: number;
}

/** The body of `GET /graph`. */
export interface GraphJson {
  /** The graph's event-time clock: the end of the latest window observed. */
  asOfMs: number | null;
  rateWindowMs: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface GraphSnapshot {
  readonly version: 1;
  readonly asOfMs: number | null;
  readonly edges: EdgeState[];
}

// Windows are kept this long at least, so a copy of an edge arriving late is still recognised as one.
const MIN_RETAIN_MS = 300_000;

/**
 * The live dependency graph: every edge seen in final aggregates, with first and last seen, rate and error rate,
 * forgotten after `ttlMs` without traffic. Pure; the service persists it (Redis) and serves `toJSON()`.
 *
 * Each edge reaches stage 2 twice, in its caller's aggregate (outbound) and its callee's (inbound); virtual callees
 * and callers without a target only once. A window of an edge is therefore counted once: the larger of its copies
 * (they differ only when one aggregate closed without a partition whose late data the other had).
 */
export class DependencyGraph {
  readonly options: GraphOptions;
  private readonly edges = new Map<string, EdgeState>();
  private asOfMs = Number.NEGATIVE_INFINITY;

  constructor(options: GraphOptionsInput = {}) {
    this.options = parseOptions(graphOptionsSchema, options, "graph options");
  }

  get size(): number {
    return this.edges.size;
  }

  observe(aggregate: WindowAggregate): void {
    const end = aggregate.windowStartMs + aggregate.windowMs;
    if (end > this.asOfMs) this.asOfMs = end;
    for (const e of aggregate.inbound) this.observeEdge(e, aggregate.windowStartMs, end);
    for (const e of aggregate.outbound) this.observeEdge(e, aggregate.windowStartMs, end);
    const keepFrom = this.asOfMs - Math.max(this.options.rateWindowMs, MIN_RETAIN_MS);
    for (const state of this.edges.values()) {
      while (state.buckets.length > 0 && state.buckets[0]![0] < keepFrom) state.buckets.shift();
    }
  }

  /** Removes edges without traffic since `nowMs - ttlMs`; returns how many. */
  expire(nowMs: number): number {
    let removed = 0;
    for (const [key, state] of this.edges) {
      if (state.lastSeenMs < nowMs - this.options.ttlMs) {
        this.edges.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** The graph, or with `service` only the edges that have it at one end. */
  toJSON(filter: { service?: string } = {}): GraphJson {
    const rateFrom = this.asOfMs - this.options.rateWindowMs;
    const nodes = new Map<string, GraphNode>();
    const edges: GraphEdge[] = [];
    for (const key of [...this.edges.keys()].sort()) {
      const s = this.edges.get(key)!;
      if (filter.service !== undefined && s.caller.service !== filter.service && s.callee.service !== filter.service) continue;
      let requests = 0;
      let errors = 0;
      for (const [start, r, e] of s.buckets) {
        if (start >= rateFrom) {
          requests += r;
          errors += e;
        }
      }
      edges.push({
        caller: { ...s.caller },
        callee: { ...s.callee },
        connectionType: s.connectionType,
        firstSeenMs: s.firstSeenMs,
        lastSeenMs: s.lastSeenMs,
        rate: requests / (this.options.rateWindowMs / 1000),
        errorRate: requests > 0 ? errors / requests : null,
        requestsTotal: s.requestsTotal,
        errorsTotal: s.errorsTotal,
      });
      for (const node of [{ ...s.caller, virtual: false }, s.callee]) {
        nodes.set(`${node.service}\0${node.namespace ?? ""}\0${node.virtual ? 1 : 0}`, { ...node });
      }
    }
    return {
      asOfMs: Number.isFinite(this.asOfMs) ? this.asOfMs : null,
      rateWindowMs: this.options.rateWindowMs,
      nodes: [...nodes.keys()].sort().map((k) => nodes.get(k)!),
      edges,
    };
  }

  snapshot(): GraphSnapshot {
    return {
      version: 1,
      asOfMs: Number.isFinite(this.asOfMs) ? this.asOfMs : null,
      edges: [...this.edges.values()].map((s) => ({ ...s, buckets: s.buckets.map((b) => [...b] as Bucket) })),
    };
  }

  static restore(options: GraphOptionsInput, snapshot: GraphSnapshot): DependencyGraph {
    const graph = new DependencyGraph(options);
    graph.asOfMs = snapshot.asOfMs ?? Number.NEGATIVE_INFINITY;
    for (const s of snapshot.edges) {
      graph.edges.set(edgeKey(s.caller, s.callee, s.connectionType), { ...s, buckets: s.buckets.map((b) => [...b] as Bucket) });
    }
    return graph;
  }

  private observeEdge(e: EdgeSeries, windowStartMs: number, windowEndMs: number): void {
    const requests = e.counters.requests;
    if (requests <= 0) return; // a zero-filled series: known, but no traffic
    const key = edgeKey(e.caller, e.callee, e.connectionType);
    let state = this.edges.get(key);
    if (state === undefined) {
      state = {
        caller: { ...e.caller },
        callee: { ...e.callee },
        connectionType: e.connectionType,
        firstSeenMs: windowStartMs,
        lastSeenMs: windowEndMs,
        requestsTotal: 0,
        errorsTotal: 0,
        buckets: [],
      };
      this.edges.set(key, state);
    }
    state.firstSeenMs = Math.min(state.firstSeenMs, windowStartMs);
    state.lastSeenMs = Math.max(state.lastSeenMs, windowEndMs);
    const errors = e.counters.errors;
    let i = state.buckets.length;
    while (i > 0 && state.buckets[i - 1]![0] > windowStartMs) i--;
    const existing = i > 0 ? state.buckets[i - 1] : undefined;
    if (existing !== undefined && existing[0] === windowStartMs) {
      // The other copy of this window: keep the larger, count only the difference.
      if (requests > existing[1]) {
        state.requestsTotal += requests - existing[1];
        existing[1] = requests;
      }
      if (errors > existing[2]) {
        state.errorsTotal += errors - existing[2];
        existing[2] = errors;
      }
      return;
    }
    state.buckets.splice(i, 0, [windowStartMs, requests, errors]);
    state.requestsTotal += requests;
    state.errorsTotal += errors;
  }
}
