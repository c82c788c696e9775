import type { PartialAggregate, TargetRef } from "@meshloop/contracts";
import { partialId } from "@meshloop/contracts";
import type { SeriesLists } from "../series/series-set.ts";
import { SeriesSet } from "../series/series-set.ts";
import type { SketchOptions } from "../sketch/ddsketch.ts";

/** The start of the epoch-aligned window holding `timeMs`; every partition and stage cuts the same windows. */
export function windowStartOf(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

/** One service's accumulators in one open window of one partition. */
export class ServiceWindow {
  readonly service: string;
  readonly windowStartMs: number;
  /** The target of the first resource of the service seen in the window. */
  readonly target: TargetRef;
  readonly set: SeriesSet;

  constructor(service: string, windowStartMs: number, target: TargetRef, sketch: SketchOptions) {
    this.service = service;
    this.windowStartMs = windowStartMs;
    this.target = target;
    this.set = new SeriesSet(sketch);
  }

  toPartial(windowMs: number, partition: number, sourcePartitions: number, watermarkMs: number): PartialAggregate {
    return {
      id: partialId(this.service, this.windowStartMs, windowMs, partition),
      service: this.service,
      target: { ...this.target },
      windowStartMs: this.windowStartMs,
      windowMs,
      ...this.set.toLists(),
      partition,
      sourcePartitions,
      watermarkMs,
      revision: 0,
    };
  }
}

export interface WindowSnapshot {
  readonly service: string;
  readonly windowStartMs: number;
  readonly target: TargetRef;
  readonly lists: SeriesLists;
}

/** The open windows of a partition: window start -> service -> accumulators. */
export class WindowTable {
  readonly sketch: SketchOptions;
  private readonly windows = new Map<number, Map<string, ServiceWindow>>();
  // The last window looked up: consecutive spans mostly share service and window.
  private last: ServiceWindow | undefined;

  constructor(sketch: SketchOptions) {
    this.sketch = sketch;
  }

  get(windowStartMs: number, service: string, target: TargetRef): ServiceWindow {
    const last = this.last;
    if (last !== undefined && last.windowStartMs === windowStartMs && last.service === service) return last;
    let byService = this.windows.get(windowStartMs);
    if (byService === undefined) {
      byService = new Map();
      this.windows.set(windowStartMs, byService);
    }
    let w = byService.get(service);
    if (w === undefined) {
      w = new ServiceWindow(service, windowStartMs, target, this.sketch);
      byService.set(service, w);
    }
    this.last = w;
    return w;
  }

  /** Removes and returns the windows ending at or before `timeMs`, by window start, then service. */
  takeEndingBy(timeMs: number, windowMs: number): ServiceWindow[] {
    const starts = [...this.windows.keys()].filter((s) => s + windowMs <= timeMs).sort((a, b) => a - b);
    const out: ServiceWindow[] = [];
    for (const start of starts) {
      const byService = this.windows.get(start)!;
      this.windows.delete(start);
      for (const service of [...byService.keys()].sort()) out.push(byService.get(service)!);
    }
    if (this.last !== undefined && this.last.windowStartMs + windowMs <= timeMs) this.last = undefined;
    return out;
  }

  /** Series accumulated in open windows (for memory accounting). */
  seriesCount(): number {
    let n = 0;
    for (const byService of this.windows.values()) {
      for (const w of byService.values()) {
        n += w.set.instances.size + w.set.routes.size + w.set.inbound.size + w.set.outbound.size;
      }
    }
    return n;
  }

  snapshot(): WindowSnapshot[] {
    const out: WindowSnapshot[] = [];
    for (const byService of this.windows.values()) {
      for (const w of byService.values()) {
        out.push({ service: w.service, windowStartMs: w.windowStartMs, target: w.target, lists: w.set.toLists() });
      }
    }
    return out;
  }

  restore(snapshot: readonly WindowSnapshot[]): void {
    for (const w of snapshot) this.get(w.windowStartMs, w.service, w.target).set.addLists(w.lists);
    this.last = undefined;
  }
}
