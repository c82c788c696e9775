import type { PartialAggregate, ProgressMark, TargetRef } from "@meshloop/contracts";
import type { DedupSnapshot } from "./dedup.ts";
import type { PairingCounts, PairingSnapshot } from "./edges.ts";
import type { RouteRegistrySnapshot } from "./routes.ts";
import type { WindowSnapshot } from "./windows.ts";

/** What goes into stage 1 and what comes out of it: records, outputs, counters and the snapshot's shape. */

/** One record of the spans topic. */
export interface SpanRecord {
  /** An OTLP ExportTraceServiceRequest (protobuf). */
  readonly value: Uint8Array;
  /** The Kafka record timestamp: when the ingest received the spans. Watermarks advance on it, never on span clocks. */
  readonly timestampMs: number;
  readonly partition: number;
  /** Partitions of the spans topic now (a span is misrouted when its trace id belongs to another). */
  readonly partitionCount: number;
}

/** What folding a record or a tick produced, to be written with the input offsets in one transaction. */
export interface Stage1Output {
  readonly partials: PartialAggregate[];
  readonly progress: ProgressMark[];
}

/** Cumulative counts of the partition, for its metrics. */
export interface Stage1Counters {
  records: number;
  /** SERVER, CLIENT, PRODUCER and CONSUMER spans read. */
  spans: number;
  /** INTERNAL and unspecified spans: skipped. */
  ignoredSpans: number;
  /** Spans with a trace id of other than 16 bytes or a span id of other than 8: skipped. */
  invalidSpans: number;
  /** Spans whose trace id belongs to another partition: aggregated all the same, but they may not pair. */
  misrouted: number;
  duplicates: number;
  skewed: number;
  late: number;
  /** Spans of resources that resolve to no target (`unknown_service:...`): in no partial, but their edges are. */
  unresolved: number;
  /** Spans that went to the `other` route. */
  routeOverflow: number;
}

export interface Stage1Stats extends Stage1Counters {
  readonly pairing: Readonly<PairingCounts>;
  readonly dedupEarlyRotations: number;
  readonly pendingSpans: number;
  readonly dedupEntries: number;
  readonly openSeries: number;
  readonly knownServices: number;
  readonly watermarkMs: number | null;
  readonly closedThroughMs: number | null;
}

export interface Stage1Snapshot {
  readonly version: 1;
  readonly partition: number;
  readonly partitionCount: number;
  readonly windowMs: number;
  readonly maxRecordTimestampMs: number | null;
  readonly watermarkMs: number | null;
  readonly closedThroughMs: number | null;
  readonly services: Array<[service: string, known: KnownService]>;
  readonly windows: WindowSnapshot[];
  readonly routes: RouteRegistrySnapshot;
  readonly pairing: PairingSnapshot;
  readonly dedup: DedupSnapshot;
  readonly counters: Stage1Counters;
}

export interface KnownService {
  target: TargetRef;
  lastSeenMs: number;
}
