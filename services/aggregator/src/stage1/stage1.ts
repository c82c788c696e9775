import type { ProgressMark, TargetRef } from "@meshloop/contracts";
import { OTHER_ROUTE, progressId, spanPartition } from "@meshloop/contracts";
import { ConfigError, ValidationError } from "@meshloop/errors";
import type { Stage1Options, Stage1OptionsInput } from "../options.ts";
import { parseOptions, stage1OptionsSchema } from "../options.ts";
import { EdgeKeyCache } from "../series/series-set.ts";
import type { SpanFacts } from "../spans/span-reader.ts";
import { SpanReader } from "../spans/span-reader.ts";
import type { DedupPart } from "./dedup.ts";
import { DedupFilter } from "./dedup.ts";
import type { EdgeEvent } from "./edges.ts";
import { PairingStore } from "./edges.ts";
import type { KnownService, SpanRecord, Stage1Counters, Stage1Output, Stage1Snapshot, Stage1Stats } from "./io.ts";
import { RouteRegistry } from "./routes.ts";
import { windowStartOf, WindowTable } from "./windows.ts";

export type { SpanRecord, Stage1Counters, Stage1Output, Stage1Snapshot, Stage1Stats } from "./io.ts";

const NONE: Stage1Output = { partials: [], progress: [] };

/**
 * Stage 1 of the aggregator for one spans partition: folds records into per-(service, window) partials and emits
 * them, with progress marks for every known service, when the watermark passes a window's end.
 *
 * Time: a span's end time picks its window, unless it is further than `skewBoundMs` from its record timestamp, in
 * which case the record timestamp does (counted as skewed). The watermark is the highest record timestamp minus the
 * allowed lateness, or `tick(now)` minus it for a caught-up idle partition. Windows close when the watermark passes
 * their end and no CLIENT span of theirs is still waiting for its SERVER child (edges.ts). A span for a window that
 * already closed is late: it is counted in the oldest window still open, with `spans.late`, so totals stay exact
 * (the contract's `revision` stays 0: nothing is ever restated, and stage 2 never has to subtract).
 *
 * Pure: no I/O, no clock. Every method is deterministic in its inputs, and `snapshot()` / `restore()` carry the whole
 * state through JSON, so a restored partition continues exactly where the snapshot was taken.
 */
export class Stage1Partition {
  readonly options: Stage1Options;
  private readonly reader: SpanReader;
  private readonly windows: WindowTable;
  private routes: RouteRegistry;
  private readonly services = new Map<string, KnownService>();
  private readonly edgeKeys = new EdgeKeyCache();
  // The current span's trace id (bytes 0-15) and a span id (16-23), copied to hash and key without allocating.
  private readonly scratch = Buffer.alloc(24);
  private readonly traceId = this.scratch.subarray(0, 16);
  private pairing: PairingStore;
  private dedup: DedupFilter;
  private partitionCount: number;
  private maxRecordTimestampMs = Number.NEGATIVE_INFINITY;
  private watermarkMs = Number.NEGATIVE_INFINITY;
  /** Every window ending at or before this is closed and emitted. */
  private closedThroughMs = Number.NEGATIVE_INFINITY;
  private readonly counters: Stage1Counters = {
    records: 0,
    spans: 0,
    ignoredSpans: 0,
    invalidSpans: 0,
    misrouted: 0,
    duplicates: 0,
    skewed: 0,
    late: 0,
    unresolved: 0,
    routeOverflow: 0,
  };

  constructor(options: Stage1OptionsInput) {
    this.options = parseOptions(stage1OptionsSchema, options, "stage 1 options");
    this.partitionCount = this.options.partitionCount;
    this.reader = new SpanReader({ resolution: this.options.resolution, grpcErrorCodes: new Set(this.options.grpcErrorCodes) });
    this.windows = new WindowTable(this.options.sketch);
    this.routes = new RouteRegistry(this.options.routeLimit, this.options.seriesTtlMs);
    this.pairing = new PairingStore(this.options.pairingTtlMs, this.options.maxPendingSpans);
    this.dedup = new DedupFilter(this.options.dedup);
  }

  get partition(): number {
    return this.options.partition;
  }

  /**
   * Folds one record and emits what its timestamp closed. A malformed record throws a ValidationError and leaves
   * the state as it was (the spans are read completely before any is counted).
   */
  foldRecord(record: SpanRecord): Stage1Output {
    if (record.partition !== this.partition) {
      throw new ValidationError(`a record of partition ${record.partition} given to stage 1 of partition ${this.partition}`, {
        context: { partition: record.partition },
      });
    }
    if (!Number.isFinite(record.timestampMs)) {
      throw new ValidationError(`record timestamp ${record.timestampMs} is not a number`, { context: { partition: this.partition } });
    }
    const readCounts = { ignored: 0, invalid: 0 };
    const n = this.reader.read(record.value, readCounts);
    this.partitionCount = checkPartitionCount(record.partitionCount, this.partition);
    this.counters.records++;
    this.counters.ignoredSpans += readCounts.ignored;
    this.counters.invalidSpans += readCounts.invalid;
    const buf = Buffer.isBuffer(record.value)
      ? record.value
      : Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength);
    if (record.timestampMs > this.maxRecordTimestampMs) this.maxRecordTimestampMs = record.timestampMs;
    // Pairing deadlines count from the watermark this record sets, or its own advance could expire a span before
    // the partner in the next record of the same timestamp is read.
    const arrivalMs = Math.max(this.watermarkMs, this.maxRecordTimestampMs - this.options.allowedLatenessMs);
    for (let i = 0; i < n; i++) this.foldSpan(this.reader.facts(i), buf, record.timestampMs, arrivalMs);
    return this.advance(this.maxRecordTimestampMs - this.options.allowedLatenessMs);
  }

  /**
   * Advances the watermark to `nowMs - allowedLatenessMs` for a partition that is caught up (no lag) and receives
   * nothing, so that its windows still close. Call it only when caught up: a lagging partition's unread records
   * would all be late.
   */
  tick(nowMs: number): Stage1Output {
    return this.advance(nowMs - this.options.allowedLatenessMs);
  }

  /**
   * Makes a service known here without a span of it, so that this partition sends it progress marks and stage 2
   * does not wait for this partition (for services learned elsewhere: another partition, a shared registry).
   */
  knowService(service: string, target: TargetRef, nowMs: number): void {
    const known = this.services.get(service);
    if (known === undefined) this.services.set(service, { target, lastSeenMs: nowMs });
    else if (nowMs > known.lastSeenMs) known.lastSeenMs = nowMs;
  }

  /** The services this partition knows (to publish to the registry other partitions read with `knowService`). */
  knownServices(): Array<{ service: string; target: TargetRef; lastSeenMs: number }> {
    return [...this.services.keys()].sort().map((service) => ({ service, ...this.services.get(service)! }));
  }

  stats(): Stage1Stats {
    return {
      ...this.counters,
      pairing: { ...this.pairing.counts },
      dedupEarlyRotations: this.dedup.earlyRotations,
      pendingSpans: this.pairing.size,
      dedupEntries: this.dedup.size,
      openSeries: this.windows.seriesCount(),
      knownServices: this.services.size,
      watermarkMs: finiteOrNull(this.watermarkMs),
      closedThroughMs: finiteOrNull(this.closedThroughMs),
    };
  }

  private foldSpan(f: SpanFacts, buf: Buffer, recordTimestampMs: number, arrivalMs: number): void {
    const c = this.counters;
    const windowMs = this.options.windowMs;
    c.spans++;
    const scratch = this.scratch;
    buf.copy(scratch, 0, f.traceStart, f.traceEnd);
    if (spanPartition(this.traceId, this.partitionCount) !== this.partition) c.misrouted++;

    let timeMs = f.endMs;
    const skewed = Math.abs(timeMs - recordTimestampMs) > this.options.skewBoundMs;
    if (skewed) timeMs = recordTimestampMs;
    let windowStartMs = windowStartOf(timeMs, windowMs);
    const late = windowStartMs + windowMs <= this.closedThroughMs;
    if (late) windowStartMs = windowStartOf(this.closedThroughMs, windowMs);

    const res = f.resource;
    const window = res.target === undefined ? undefined : this.windows.get(windowStartMs, res.service, res.target);
    if (this.dedup.seen(buf, f.traceStart, f.spanStart, recordTimestampMs)) {
      c.duplicates++;
      if (window !== undefined) window.set.spans.duplicate++;
      return;
    }
    if (skewed) c.skewed++;
    if (late) c.late++;
    if (window === undefined) c.unresolved++;
    else {
      const spans = window.set.spans;
      spans.accepted++;
      if (skewed) spans.skewed++;
      if (late) spans.late++;
      this.knowService(res.service, res.target!, timeMs);
    }

    if (f.isServerSide) {
      if (window !== undefined) {
        window.set
          .instance(res.instanceKey, res.version, res.instance, res.locality)
          .add(f.weight, f.durationMs, f.status, f.error, f.samplingKnown);
        if (f.route !== undefined) {
          const admitted = this.routes.admit(res.service, f.route, timeMs);
          if (!admitted) c.routeOverflow++;
          window.set
            .route(res.version, admitted ? f.route : OTHER_ROUTE, !admitted)
            .add(f.weight, f.durationMs, f.status, f.error, f.samplingKnown);
        }
      }
      // Root spans have no caller to pair with.
      if (!f.hasParent) return;
      const edge = this.pairing.server({
        side: "server",
        seq: 0,
        key: this.pairingKey(buf, f.parentStart),
        deadline: this.pairing.deadline(timeMs, arrivalMs),
        kind: f.kind,
        node: res.node,
        callee: res.callee,
        target: res.target,
        weight: f.weight,
        samplingKnown: f.samplingKnown,
        error: f.error,
        status: f.status,
      });
      if (edge !== undefined) this.countEdge(edge);
    } else {
      const edge = this.pairing.client({
        side: "client",
        seq: 0,
        key: this.pairingKey(buf, f.spanStart),
        deadline: this.pairing.deadline(timeMs, arrivalMs),
        kind: f.kind,
        node: res.node,
        target: res.target,
        weight: f.weight,
        samplingKnown: f.samplingKnown,
        error: f.error,
        status: f.status,
        windowStartMs,
        durationMs: f.durationMs,
        peer: f.peer,
      });
      if (edge !== undefined) this.countEdge(edge);
    }
  }

  /**
   * The pairing key of the span whose trace id is in `scratch`: trace id and a span id (its own for a client, its
   * parent's for a server) as one 24-character latin1 string, built in one allocation.
   */
  private pairingKey(buf: Buffer, spanIdStart: number): string {
    buf.copy(this.scratch, 16, spanIdStart, spanIdStart + 8);
    return this.scratch.toString("latin1", 0, 24);
  }

  /** An edge counts under both its caller's and its callee's key (virtual callees have none). */
  private countEdge(e: EdgeEvent): void {
    const key = this.edgeKeys.get(e.caller, e.callee, e.connectionType);
    if (e.callerTarget !== undefined) {
      this.windows
        .get(e.windowStartMs, e.caller.service, e.callerTarget)
        .set.edge("outbound", e.caller, e.callee, e.connectionType, key)
        .add(e.weight, e.durationMs, e.status, e.error, e.samplingKnown);
    }
    if (e.calleeTarget !== undefined) {
      this.windows
        .get(e.windowStartMs, e.callee.service, e.calleeTarget)
        .set.edge("inbound", e.caller, e.callee, e.connectionType, key)
        .add(e.weight, e.durationMs, e.status, e.error, e.samplingKnown);
    }
  }

  private advance(candidateMs: number): Stage1Output {
    if (candidateMs > this.watermarkMs) this.watermarkMs = candidateMs;
    for (const edge of this.pairing.expire(this.watermarkMs)) this.countEdge(edge);
    const closeTo = Math.min(this.watermarkMs, this.pairing.heldWindowStart());
    if (!(closeTo > this.closedThroughMs)) return NONE;
    const previous = this.closedThroughMs;
    this.closedThroughMs = closeTo;
    const windowMs = this.options.windowMs;
    const markMs = Math.max(0, Math.floor(closeTo));
    const partials = this.windows
      .takeEndingBy(closeTo, windowMs)
      .map((w) => w.toPartial(windowMs, this.partition, this.partitionCount, markMs));
    // Progress marks only when a window boundary was crossed: between boundaries they would say nothing new.
    if (previous !== Number.NEGATIVE_INFINITY && Math.floor(closeTo / windowMs) === Math.floor(previous / windowMs)) {
      return partials.length === 0 ? NONE : { partials, progress: [] };
    }
    this.forget(closeTo);
    const progress = [...this.services.keys()].sort().map(
      (service): ProgressMark => ({
        id: progressId(service, this.partition, markMs),
        service,
        partition: this.partition,
        sourcePartitions: this.partitionCount,
        watermarkMs: markMs,
      }),
    );
    return { partials, progress };
  }

  private forget(nowMs: number): void {
    const cutoff = nowMs - this.options.seriesTtlMs;
    for (const [service, known] of this.services) if (known.lastSeenMs < cutoff) this.services.delete(service);
    this.routes.expire(nowMs);
  }

  /**
   * The whole state. With `dedupData: false` the dedup filter's fingerprints are left out: a checkpoint then stores
   * `dedupParts()` apart, each only once, and puts them back before `restore`.
   */
  snapshot({ dedupData = true }: { dedupData?: boolean } = {}): Stage1Snapshot {
    return {
      version: 1,
      partition: this.partition,
      partitionCount: this.partitionCount,
      windowMs: this.options.windowMs,
      maxRecordTimestampMs: finiteOrNull(this.maxRecordTimestampMs),
      watermarkMs: finiteOrNull(this.watermarkMs),
      closedThroughMs: finiteOrNull(this.closedThroughMs),
      services: [...this.services].map(([service, known]) => [service, { ...known }]),
      windows: this.windows.snapshot(),
      routes: this.routes.snapshot(),
      pairing: this.pairing.snapshot(),
      dedup: this.dedup.snapshot({ data: dedupData }),
      counters: { ...this.counters },
    };
  }

  /** The dedup filter's generations, in the order of the snapshot's `dedup.generations`. */
  dedupParts(): DedupPart[] {
    return this.dedup.parts();
  }

  /** A partition state from a snapshot (as parsed back from JSON); the options must match the snapshot's. */
  static restore(options: Stage1OptionsInput, snapshot: Stage1Snapshot): Stage1Partition {
    const s = new Stage1Partition({ ...options, partitionCount: snapshot.partitionCount });
    if (snapshot.version !== 1) throw new ConfigError(`stage 1 snapshot version ${String(snapshot.version)} is not 1`);
    if (snapshot.partition !== s.partition || snapshot.windowMs !== s.options.windowMs) {
      throw new ConfigError(
        `stage 1 snapshot of partition ${snapshot.partition} with ${snapshot.windowMs} ms windows cannot restore partition ` +
          `${s.partition} with ${s.options.windowMs} ms windows`,
      );
    }
    s.maxRecordTimestampMs = snapshot.maxRecordTimestampMs ?? Number.NEGATIVE_INFINITY;
    s.watermarkMs = snapshot.watermarkMs ?? Number.NEGATIVE_INFINITY;
    s.closedThroughMs = snapshot.closedThroughMs ?? Number.NEGATIVE_INFINITY;
    for (const [service, known] of snapshot.services) s.services.set(service, { ...known });
    s.windows.restore(snapshot.windows);
    s.routes = RouteRegistry.restore(s.options.routeLimit, s.options.seriesTtlMs, snapshot.routes);
    s.pairing = PairingStore.restore(s.options.pairingTtlMs, s.options.maxPendingSpans, snapshot.pairing);
    s.dedup = DedupFilter.restore(s.options.dedup, snapshot.dedup);
    Object.assign(s.counters, snapshot.counters);
    return s;
  }
}

function checkPartitionCount(partitionCount: number, partition: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount <= partition) {
    throw new ValidationError(`partition count ${partitionCount} does not include partition ${partition}`, {
      context: { partition, partitionCount },
    });
  }
  return partitionCount;
}

function finiteOrNull(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}
