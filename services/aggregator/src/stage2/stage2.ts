import type { GaugeBatch, PartialAggregate, ProgressMark, WindowAggregate } from "@meshloop/contracts";
import { ConfigError, ValidationError } from "@meshloop/errors";
import type { Stage2Options, Stage2OptionsInput } from "../options.ts";
import { parseOptions, stage2OptionsSchema } from "../options.ts";
import type { SeriesLists } from "../series/series-set.ts";
import { SeriesSet } from "../series/series-set.ts";
import { windowStartOf } from "../stage1/windows.ts";
import { PartitionLiveness } from "./liveness.ts";
import { applyRouteLimit } from "./route-limit.ts";
import type { ServiceState, Stage2Counters, Stage2Snapshot } from "./service-state.ts";
import { newService, restoreService, serviceSnapshot } from "./service-state.ts";
import { splitAggregate } from "./split.ts";

export type { Stage2Counters, Stage2Snapshot } from "./service-state.ts";

/**
 * Stage 2 of the aggregator (one per partition of the partials topic, which is keyed by service): merges the
 * partials of a (service, window) from every spans partition into one WindowAggregate.
 *
 * A window is emitted once every partition 0..sourcePartitions-1 has reported (by progress mark or partial) a
 * watermark at or past its end, or once the stage-2 clock (the highest watermark any partition reported for any
 * service, run on by `tick` while nothing reports) is `completenessTimeoutMs` past its end and none of the missing
 * partitions is still moving (liveness.ts): then it lists the missing partitions. A partial
 * that comes from a missing partition after its window was emitted is carried into the service's next aggregate
 * (its spans counted as late), so totals stay exact; a partial already merged is a duplicate. Windows are emitted in
 * order, every window while the service has known series (zero-filled where no data came), nothing once it has none.
 *
 * Pure and deterministic like stage 1; `snapshot()` / `restore()` go through JSON.
 */
export class Stage2Merger {
  readonly options: Stage2Options;
  private readonly services = new Map<string, ServiceState>();
  private clockMs = Number.NEGATIVE_INFINITY;
  /** Where the clock stood when it last stopped moving, and the tick time then (null before the first tick). */
  private stallWallMs: number | null = null;
  private stallClockMs = Number.NEGATIVE_INFINITY;
  private clockAtLastTickMs = Number.NEGATIVE_INFINITY;
  private readonly liveness: PartitionLiveness;
  private readonly counters: Stage2Counters = {
    partials: 0,
    progressMarks: 0,
    duplicatePartials: 0,
    revisedPartials: 0,
    carriedPartials: 0,
    droppedPartials: 0,
    gaugeSamples: 0,
    droppedGaugeSamples: 0,
    aggregates: 0,
    aggregateParts: 0,
    incompleteAggregates: 0,
    foldedRoutes: 0,
  };

  constructor(options: Stage2OptionsInput = {}) {
    this.options = parseOptions(stage2OptionsSchema, options, "stage 2 options");
    this.liveness = new PartitionLiveness(this.options.completenessTimeoutMs, this.options.waitForMovingPartitions);
  }

  addPartial(p: PartialAggregate): WindowAggregate[] {
    const windowMs = this.options.windowMs;
    if (p.windowMs !== windowMs) {
      throw new ValidationError(`partial ${p.id} has ${p.windowMs} ms windows, stage 2 merges ${windowMs} ms windows`, {
        context: { id: p.id, windowMs: p.windowMs },
      });
    }
    this.checkSketches(p);
    this.counters.partials++;
    const st = this.state(p.service, p.sourcePartitions);
    st.target = p.target;
    this.report(st, p.partition, p.watermarkMs);

    if (st.emittedThrough !== null && p.windowStartMs + windowMs <= st.emittedThrough) {
      this.late(st, p);
    } else {
      let byPartition = st.open.get(p.windowStartMs);
      if (byPartition === undefined) {
        byPartition = new Map();
        st.open.set(p.windowStartMs, byPartition);
      }
      const held = byPartition.get(p.partition);
      if (held !== undefined && held.revision >= p.revision) this.counters.duplicatePartials++;
      else {
        if (held !== undefined) this.counters.revisedPartials++;
        byPartition.set(p.partition, p);
        if (st.next === null || p.windowStartMs < st.next) st.next = p.windowStartMs;
      }
    }
    return this.drain(p.watermarkMs, st);
  }

  addProgress(m: ProgressMark): WindowAggregate[] {
    this.counters.progressMarks++;
    const st = this.state(m.service, m.sourcePartitions);
    this.report(st, m.partition, m.watermarkMs);
    return this.drain(m.watermarkMs, st);
  }

  /** Joins resource gauges into the service's windows by sample time. */
  addGauges(batch: GaugeBatch): void {
    const st = this.state(batch.service, 1);
    for (const sample of batch.samples) {
      this.counters.gaugeSamples++;
      const start = windowStartOf(sample.timeUnixMs, this.options.windowMs);
      if (st.emittedThrough !== null && start + this.options.windowMs <= st.emittedThrough) {
        this.counters.droppedGaugeSamples++;
        continue;
      }
      st.gauges.add(start, sample);
    }
  }

  /**
   * Lets the clock run on while no partition reports (all of stage 1 down), so that waiting windows time out. The
   * clock is event time, moved by the partitions' watermarks; the wall clock (`nowMs`, the ticks' time) only measures
   * how long it has stood still, and from where it stopped it runs on at wall-clock pace. Jumping it to the wall
   * clock instead would time out every window of a backlog replayed after an outage (its event time is hours behind),
   * and the partials still to come for them would be dropped as too late.
   */
  tick(nowMs: number): WindowAggregate[] {
    this.liveness.tick(nowMs);
    if (this.stallWallMs === null || this.clockMs > this.clockAtLastTickMs) {
      this.stallWallMs = nowMs;
      this.stallClockMs = this.clockMs;
    } else if (Number.isFinite(this.stallClockMs)) {
      this.clockMs = Math.max(this.clockMs, this.stallClockMs + (nowMs - this.stallWallMs));
    }
    this.clockAtLastTickMs = this.clockMs;
    // Partitions may have stopped moving since the last look: every waiting window is looked at again.
    const out: WindowAggregate[] = [];
    const timedOutBefore = this.clockMs - this.options.completenessTimeoutMs - this.options.windowMs;
    for (const st of this.services.values()) if (st.next !== null && st.next <= timedOutBefore) this.drainService(st, out);
    this.forgetIdle();
    return out;
  }

  stats(): Stage2Counters & { services: number; openWindows: number; clockMs: number | null } {
    let openWindows = 0;
    for (const st of this.services.values()) openWindows += st.open.size;
    return { ...this.counters, services: this.services.size, openWindows, clockMs: Number.isFinite(this.clockMs) ? this.clockMs : null };
  }

  private state(service: string, sourcePartitions: number): ServiceState {
    let st = this.services.get(service);
    if (st === undefined) {
      st = newService(service, sourcePartitions, this.options.seriesTtlMs);
      this.services.set(service, st);
    } else if (sourcePartitions > st.sourcePartitions) {
      st.sourcePartitions = sourcePartitions;
    }
    return st;
  }

  private report(st: ServiceState, partition: number, watermarkMs: number): void {
    this.liveness.report(partition, watermarkMs);
    if (watermarkMs > (st.progress.get(partition) ?? Number.NEGATIVE_INFINITY)) st.progress.set(partition, watermarkMs);
  }

  /** Refuses, before anything changed, a partial whose sketches cannot merge with this stage's. */
  private checkSketches(p: PartialAggregate): void {
    const accuracy = this.options.sketch.relativeAccuracy;
    for (const list of [p.series, p.routes, p.inbound, p.outbound]) {
      for (const s of list) {
        if (s.counters.latency.relativeAccuracy !== accuracy) {
          throw new ValidationError(
            `partial ${p.id} has sketches of relative accuracy ${s.counters.latency.relativeAccuracy}, stage 2 merges ${accuracy}`,
            { context: { id: p.id } },
          );
        }
      }
    }
  }

  /** A partial for a window already emitted. */
  private late(st: ServiceState, p: PartialAggregate): void {
    const end = p.windowStartMs + this.options.windowMs;
    const contributors = st.emitted.get(p.windowStartMs);
    const merged = contributors?.get(p.partition);
    if (merged !== undefined) {
      // Already in the aggregate; a higher revision cannot be applied without the old one to subtract.
      if (p.revision <= merged) this.counters.duplicatePartials++;
      else this.counters.droppedPartials++;
      return;
    }
    if (contributors === undefined && end <= st.emittedThrough! - this.options.lateRetentionMs) {
      this.counters.droppedPartials++;
      return;
    }
    this.counters.carriedPartials++;
    const lists: SeriesLists = {
      series: p.series,
      routes: p.routes,
      inbound: p.inbound,
      outbound: p.outbound,
      spans: { ...p.spans, late: p.spans.accepted },
    };
    st.carry.push(lists);
    if (contributors === undefined) st.emitted.set(p.windowStartMs, new Map([[p.partition, p.revision]]));
    else contributors.set(p.partition, p.revision);
    if (st.next === null) st.next = st.emittedThrough;
  }

  /**
   * Emits what is complete or timed out: `only`'s windows (whose progress just moved), and when the clock moved, the
   * windows of other services that it timed out. Services are visited in insertion order, which a snapshot keeps.
   */
  private drain(clockCandidateMs: number, only: ServiceState | undefined): WindowAggregate[] {
    const out: WindowAggregate[] = [];
    const advanced = clockCandidateMs > this.clockMs;
    if (advanced) this.clockMs = clockCandidateMs;
    if (only !== undefined) this.drainService(only, out);
    if (advanced) {
      const timedOutBefore = this.clockMs - this.options.completenessTimeoutMs - this.options.windowMs;
      for (const st of this.services.values()) {
        if (st !== only && st.next !== null && st.next <= timedOutBefore) this.drainService(st, out);
      }
    }
    return out;
  }

  private drainService(st: ServiceState, out: WindowAggregate[]): void {
    const windowMs = this.options.windowMs;
    while (st.next !== null && st.target !== null) {
      const start = st.next;
      const end = start + windowMs;
      const missing: number[] = [];
      for (let p = 0; p < st.sourcePartitions; p++) if ((st.progress.get(p) ?? Number.NEGATIVE_INFINITY) < end) missing.push(p);
      if (missing.length > 0 && (this.clockMs < end + this.options.completenessTimeoutMs || missing.some((p) => this.liveness.alive(p)))) return;
      st.known.expire(start);
      if (st.open.has(start) || st.carry.length > 0 || st.known.size > 0) out.push(...this.emit(st, start, missing));
      st.emittedThrough = end;
      st.next = this.nextWindow(st, end);
    }
  }

  /** After emitting the window ending at `end`: the next one, or the next with data when nothing is known. */
  private nextWindow(st: ServiceState, end: number): number | null {
    if (st.known.size > 0 || st.carry.length > 0) return end;
    let earliest: number | null = null;
    for (const start of st.open.keys()) if (earliest === null || start < earliest) earliest = start;
    return earliest;
  }

  private emit(st: ServiceState, start: number, missing: number[]): WindowAggregate[] {
    const o = this.options;
    const set = new SeriesSet(o.sketch);
    const contributors = new Map<number, number>();
    const byPartition = st.open.get(start);
    st.open.delete(start);
    if (byPartition !== undefined) {
      for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
        const p = byPartition.get(partition)!;
        set.addLists(p);
        contributors.set(partition, p.revision);
      }
    }
    for (const lists of st.carry) set.addLists(lists);
    st.carry = [];
    this.counters.foldedRoutes += applyRouteLimit(set, o.routeLimit);
    st.known.see(set, start);
    st.known.fillZeros(set, start, o.routeLimit);

    st.emitted.set(start, contributors);
    for (const w of st.emitted.keys()) if (w + o.windowMs <= start - o.lateRetentionMs) st.emitted.delete(w);
    const resources = st.gauges.take(start);
    this.counters.droppedGaugeSamples += st.gauges.dropBefore(start + o.windowMs);

    const parts = splitAggregate(
      {
        service: st.service,
        target: st.target!,
        windowStartMs: start,
        windowMs: o.windowMs,
        completeness: { complete: missing.length === 0, missingPartitions: missing },
      },
      set.toLists(),
      resources,
      o.maxAggregateBytes,
    );
    this.counters.aggregates++;
    this.counters.aggregateParts += parts.length;
    if (missing.length > 0) this.counters.incompleteAggregates++;
    return parts;
  }

  /** Drops services with nothing left to report that no partition mentioned for the retention period. */
  private forgetIdle(): void {
    const cutoff = this.clockMs - this.options.lateRetentionMs;
    for (const [service, st] of this.services) {
      if (st.next === null) this.counters.droppedGaugeSamples += st.gauges.dropBefore(cutoff);
      if (st.next !== null || st.open.size > 0 || st.known.size > 0 || !st.gauges.isEmpty) continue;
      let latest = Number.NEGATIVE_INFINITY;
      for (const w of st.progress.values()) latest = Math.max(latest, w);
      if (latest < cutoff) this.services.delete(service);
    }
  }

  snapshot(): Stage2Snapshot {
    return {
      version: 1,
      windowMs: this.options.windowMs,
      clockMs: Number.isFinite(this.clockMs) ? this.clockMs : null,
      counters: { ...this.counters },
      services: [...this.services.values()].map(serviceSnapshot),
    };
  }

  static restore(options: Stage2OptionsInput, snapshot: Stage2Snapshot): Stage2Merger {
    const merger = new Stage2Merger(options);
    if (snapshot.version !== 1) throw new ConfigError(`stage 2 snapshot version ${String(snapshot.version)} is not 1`);
    if (snapshot.windowMs !== merger.options.windowMs) {
      throw new ConfigError(`stage 2 snapshot has ${snapshot.windowMs} ms windows, the options ${merger.options.windowMs} ms`);
    }
    merger.clockMs = snapshot.clockMs ?? Number.NEGATIVE_INFINITY;
    Object.assign(merger.counters, snapshot.counters);
    for (const s of snapshot.services) merger.services.set(s.service, restoreService(s, merger.options.seriesTtlMs));
    return merger;
  }
}
