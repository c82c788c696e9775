import type { PartialAggregate, TargetRef } from "@meshloop/contracts";
import type { SeriesLists } from "../series/series-set.ts";
import type { GaugeAcc } from "./gauges.ts";
import { GaugeWindows } from "./gauges.ts";
import type { KnownSeriesEntry } from "./known-series.ts";
import { KnownSeries } from "./known-series.ts";

/** Stage 2's state per service, its counters, and their JSON forms for snapshots. */

/** Cumulative counts, for stage 2's metrics. */
export interface Stage2Counters {
  partials: number;
  progressMarks: number;
  /** A partial already held (same or lower revision): re-emission after a restart. */
  duplicatePartials: number;
  /** A higher revision replaced a held partial before its window was emitted. */
  revisedPartials: number;
  /** Partials from a missing partition after their window was emitted: carried into the next aggregate. */
  carriedPartials: number;
  /** Partials too late to tell from duplicates (beyond `lateRetentionMs`), or revisions of emitted ones: dropped. */
  droppedPartials: number;
  gaugeSamples: number;
  /** Gauge samples for windows already emitted, or never emitted (a service without spans): dropped. */
  droppedGaugeSamples: number;
  aggregates: number;
  /** Records written: an aggregate split in n parts counts n. */
  aggregateParts: number;
  incompleteAggregates: number;
  /** Route series folded into `other` by stage 2's own cap. */
  foldedRoutes: number;
}

export interface ServiceState {
  readonly service: string;
  target: TargetRef | null;
  sourcePartitions: number;
  /** Highest watermark each partition reported for this service. */
  readonly progress: Map<number, number>;
  /** Windows not emitted yet: start -> partition -> its partial (highest revision). */
  readonly open: Map<number, Map<number, PartialAggregate>>;
  /** The earliest window still to emit; null while the service has nothing to report. */
  next: number | null;
  /** End of the last window emitted; null before the first. */
  emittedThrough: number | null;
  /** Emitted windows' contributors (partition -> revision), to tell late partials from duplicates. */
  readonly emitted: Map<number, Map<number, number>>;
  /** Late partials waiting for the next aggregate. */
  carry: SeriesLists[];
  known: KnownSeries;
  gauges: GaugeWindows;
}

export interface Stage2Snapshot {
  readonly version: 1;
  readonly windowMs: number;
  readonly clockMs: number | null;
  readonly counters: Stage2Counters;
  readonly services: Array<{
    service: string;
    target: TargetRef | null;
    sourcePartitions: number;
    progress: Array<[number, number]>;
    open: Array<[number, PartialAggregate[]]>;
    next: number | null;
    emittedThrough: number | null;
    emitted: Array<[number, Array<[number, number]>]>;
    carry: SeriesLists[];
    known: Array<[string, KnownSeriesEntry]>;
    gauges: Array<[number, GaugeAcc[]]>;
  }>;
}

export type ServiceSnapshot = Stage2Snapshot["services"][number];

export function newService(service: string, sourcePartitions: number, seriesTtlMs: number): ServiceState {
  return {
    service,
    target: null,
    sourcePartitions,
    progress: new Map(),
    open: new Map(),
    next: null,
    emittedThrough: null,
    emitted: new Map(),
    carry: [],
    known: new KnownSeries(seriesTtlMs),
    gauges: new GaugeWindows(),
  };
}

export function serviceSnapshot(st: ServiceState): ServiceSnapshot {
  return {
    service: st.service,
    target: st.target,
    sourcePartitions: st.sourcePartitions,
    progress: [...st.progress],
    open: [...st.open].map(([start, byPartition]) => [start, [...byPartition.values()]]),
    next: st.next,
    emittedThrough: st.emittedThrough,
    emitted: [...st.emitted].map(([start, contributors]) => [start, [...contributors]]),
    carry: st.carry,
    known: st.known.snapshot(),
    gauges: st.gauges.snapshot(),
  };
}

export function restoreService(s: ServiceSnapshot, seriesTtlMs: number): ServiceState {
  return {
    service: s.service,
    target: s.target,
    sourcePartitions: s.sourcePartitions,
    progress: new Map(s.progress),
    open: new Map(s.open.map(([start, partials]) => [start, new Map(partials.map((p) => [p.partition, p]))])),
    next: s.next,
    emittedThrough: s.emittedThrough,
    emitted: new Map(s.emitted.map(([start, contributors]) => [start, new Map(contributors)])),
    carry: s.carry,
    known: KnownSeries.restore(seriesTtlMs, s.known),
    gauges: GaugeWindows.restore(s.gauges),
  };
}
