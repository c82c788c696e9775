import { emptySketch } from "@meshloop/contracts";
import type { InstanceSeries, LatencySketch, WindowAggregate } from "@meshloop/contracts";
import { mergedQuantile, mergeTwo } from "./statistics/sketch.ts";

/**
 * Whole windows as the controllers read them: the parts of one window merged, totals per version and per instance,
 * and whether the window can be trusted. Built once per batch and shared by every controller (memoized on the
 * array), because merging sketches is most of an evaluation's cost.
 */

export interface SeriesTotals {
  requests: number;
  errors: number;
  latency: LatencySketch;
}

export interface InstanceTotals extends SeriesTotals {
  readonly instance: string;
  readonly version: string;
}

export interface WindowView {
  readonly startMs: number;
  readonly endMs: number;
  /** All parts arrived and the aggregator saw every spans partition. */
  readonly complete: boolean;
  /** Why the window is not complete, for the pause notice; null when it is. */
  readonly incompleteReason: string | null;
  readonly versions: ReadonlyMap<string, SeriesTotals>;
  readonly instances: readonly InstanceTotals[];
  /** Versions the window shows traffic or resource gauges for (a new deployment shows gauges before traffic). */
  readonly seenVersions: readonly string[];
  /**
   * Weighted requests per accepted span (>= 1). Counts are weighted by 1/sampling probability; dividing by this
   * brings them back towards observed requests, so sampled data does not pass for more evidence than it is. It is a
   * lower bound of the sampling factor (accepted spans include client and internal spans), see docs.
   */
  readonly scale: number;
  readonly parts: readonly WindowAggregate[];
}

const cache = new WeakMap<readonly WindowAggregate[], WindowView[]>();

/** The windows in event-time order, parts of the same window merged into one view. */
export function windowViews(aggregates: readonly WindowAggregate[]): WindowView[] {
  const cached = cache.get(aggregates);
  if (cached !== undefined) return cached;
  const groups = new Map<number, WindowAggregate[]>();
  for (const a of aggregates) {
    const group = groups.get(a.windowStartMs);
    if (group === undefined) groups.set(a.windowStartMs, [a]);
    // The same part twice (an at-least-once redelivery) is counted once.
    else if (!group.some((g) => g.part.index === a.part.index)) group.push(a);
  }
  const views = [...groups.values()].map(viewOf).sort((a, b) => a.startMs - b.startMs);
  cache.set(aggregates, views);
  return views;
}

/** Only the windows that end after `afterMs` (replays and redeliveries are dropped); all of them for null. */
export function newerThan(views: readonly WindowView[], afterMs: number | null): WindowView[] {
  return afterMs === null ? views.slice() : views.filter((v) => v.endMs > afterMs);
}

function viewOf(parts: WindowAggregate[]): WindowView {
  parts.sort((a, b) => a.part.index - b.part.index);
  const first = parts[0]!;
  const versions = new Map<string, SeriesTotals>();
  const instances: InstanceTotals[] = [];
  const seen = new Set<string>();
  let weighted = 0;
  let accepted = 0;
  for (const part of parts) {
    accepted += part.spans.accepted;
    for (const s of part.series) {
      weighted += s.counters.requests;
      seen.add(s.version);
      addTo(versions, s);
      instances.push({
        instance: s.instance,
        version: s.version,
        requests: s.counters.requests,
        errors: s.counters.errors,
        latency: s.counters.latency,
      });
    }
    for (const r of part.resources) if (r.version !== null) seen.add(r.version);
  }
  const missingParts = first.part.count - parts.length;
  // Only an incomplete window names its missing partitions: not built for the (usual) complete one.
  const missingPartitions = (): number[] => [...new Set(parts.flatMap((p) => p.completeness.missingPartitions))].sort((a, b) => a - b);
  const incompleteReason =
    missingParts > 0
      ? `${missingParts} of ${first.part.count} parts of the window are missing`
      : parts.some((p) => !p.completeness.complete)
        ? `the aggregator closed the window without spans partitions ${missingPartitions().join(", ") || "(unknown)"}`
        : null;
  return {
    startMs: first.windowStartMs,
    endMs: first.windowStartMs + first.windowMs,
    complete: incompleteReason === null,
    incompleteReason,
    versions,
    instances,
    seenVersions: [...seen].sort(),
    scale: accepted > 0 ? Math.max(1, weighted / accepted) : 1,
    parts,
  };
}

function addTo(versions: Map<string, SeriesTotals>, s: InstanceSeries): void {
  const total = versions.get(s.version);
  if (total === undefined) {
    versions.set(s.version, { requests: s.counters.requests, errors: s.counters.errors, latency: s.counters.latency });
    return;
  }
  total.requests += s.counters.requests;
  total.errors += s.counters.errors;
  total.latency = mergeTwo(total.latency, s.counters.latency);
}

/** The latency of all versions of a window together, as the retries and backpressure controllers read it. */
export interface TotalLatency {
  readonly count: number;
  readonly sum: number;
  /** The median of the merged sketch, null when no version has latency data. */
  readonly p50: number | null;
}

const totalLatencies = new WeakMap<WindowView, TotalLatency>();

/**
 * The versions' latencies of a window together (what merging their sketches in order gives), computed once per view
 * and without building the merged sketch: two controllers read it, and only these three figures of it.
 */
export function totalLatency(view: WindowView): TotalLatency {
  let total = totalLatencies.get(view);
  if (total === undefined) {
    const sketches = [...view.versions.values()].map((v) => v.latency);
    let count = 0;
    let sum = 0;
    for (const sketch of sketches) {
      if (sketch.count <= 0) continue;
      count += sketch.count;
      sum += sketch.sum;
    }
    total = { count, sum, p50: mergedQuantile(sketches, 0.5) };
    totalLatencies.set(view, total);
  }
  return total;
}

/** A version's totals in a window; zeros when it served nothing. */
export function versionTotals(view: WindowView, version: string): Readonly<SeriesTotals> {
  return view.versions.get(version) ?? EMPTY_TOTALS;
}

const EMPTY_TOTALS: Readonly<SeriesTotals> = Object.freeze({
  requests: 0,
  errors: 0,
  latency: emptySketch(),
});
