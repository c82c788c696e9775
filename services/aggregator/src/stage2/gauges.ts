import type { GaugeSample, ResourceGauges } from "@meshloop/contracts";

/**
 * Resource gauges (CPU, memory) joined into a service's windows: per window and instance, the last value of each
 * kind by sample time. Gauges are levels, not counts, so one that comes after its window was emitted is dropped
 * (counted), not carried.
 */
export interface GaugeAcc {
  instance: string;
  version: string | null;
  cpuUtilization: number | null;
  memoryUtilization: number | null;
  memoryBytes: number | null;
  /** Sample time of each value, to keep the last one whatever the arrival order. */
  times: { cpuUtilization: number; memoryUtilization: number; memoryBytes: number };
}

export class GaugeWindows {
  private readonly windows = new Map<number, Map<string, GaugeAcc>>();

  add(windowStartMs: number, sample: GaugeSample): void {
    let byInstance = this.windows.get(windowStartMs);
    if (byInstance === undefined) {
      byInstance = new Map();
      this.windows.set(windowStartMs, byInstance);
    }
    let acc = byInstance.get(sample.instance);
    if (acc === undefined) {
      acc = {
        instance: sample.instance,
        version: sample.version,
        cpuUtilization: null,
        memoryUtilization: null,
        memoryBytes: null,
        times: { cpuUtilization: -1, memoryUtilization: -1, memoryBytes: -1 },
      };
      byInstance.set(sample.instance, acc);
    }
    if (sample.timeUnixMs >= acc.times[sample.kind]) {
      acc[sample.kind] = sample.value;
      acc.times[sample.kind] = sample.timeUnixMs;
      if (sample.version !== null) acc.version = sample.version;
    }
  }

  /** Removes and returns a window's gauges, by instance. */
  take(windowStartMs: number): ResourceGauges[] {
    const byInstance = this.windows.get(windowStartMs);
    if (byInstance === undefined) return [];
    this.windows.delete(windowStartMs);
    return [...byInstance.keys()].sort().map((instance) => {
      const { version, cpuUtilization, memoryUtilization, memoryBytes } = byInstance.get(instance)!;
      return { instance, version, cpuUtilization, memoryUtilization, memoryBytes };
    });
  }

  /** Drops windows starting before `windowStartMs` (their aggregate is out, or will never be). */
  dropBefore(windowStartMs: number): number {
    let dropped = 0;
    for (const start of this.windows.keys()) {
      if (start < windowStartMs) {
        dropped += this.windows.get(start)!.size;
        this.windows.delete(start);
      }
    }
    return dropped;
  }

  get isEmpty(): boolean {
    return this.windows.size === 0;
  }

  snapshot(): Array<[number, GaugeAcc[]]> {
    return [...this.windows].map(([start, byInstance]) => [start, [...byInstance.values()].map((a) => ({ ...a, times: { ...a.times } }))]);
  }

  static restore(snapshot: Array<[number, GaugeAcc[]]>): GaugeWindows {
    const g = new GaugeWindows();
    for (const [start, accs] of snapshot) g.windows.set(start, new Map(accs.map((a) => [a.instance, { ...a, times: { ...a.times } }])));
    return g;
  }
}
