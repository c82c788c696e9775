// The soak's figures: resident memory sampled per process over time and its trend, and percentiles of the delays
// from a fault to the actuation that answered it.
import { readFileSync } from "node:fs";

export interface RssSample {
  /** Wall-clock time of the sample. */
  atMs: number;
  mb: number;
}

export interface RssTrend {
  samples: number;
  firstMb: number;
  lastMb: number;
  peakMb: number;
  /** Least-squares slope over the second half of the samples, in MB per minute (the first half is warm-up). */
  slopeMbPerMin: number | null;
  /** How long the second half spans, in minutes: a slope over a short stretch says little. */
  spanMin: number;
}

/** A field of /proc/<pid>/status in MB (`VmRSS` now, `VmHWM` the peak); null when the process is gone. */
export function procMemoryMb(pid: number | undefined, field: "VmRSS" | "VmHWM" = "VmRSS"): number | null {
  if (pid === undefined) return null;
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kb === undefined ? null : Number(kb) / 1024;
  } catch {
    return null;
  }
}

/**
 * The V8 heap in use, in MB, from a service's Prometheus text (`nodejs_heap_size_used_bytes`, prom-client's default
 * metrics); null when absent. Read beside RSS: RSS also holds what the allocator keeps after a collection, so it can
 * climb while the heap does not, and a leak in the service's own objects shows in the heap.
 */
export function heapUsedMb(metricsText: string): number | null {
  const bytes = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([0-9.e+]+)$/m.exec(metricsText)?.[1];
  return bytes === undefined ? null : Number(bytes) / (1024 * 1024);
}

/** Least-squares slope of y over x; null with fewer than two distinct x. */
export function slope(points: readonly { x: number; y: number }[]): number | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  return sxx === 0 ? null : sxy / sxx;
}

export function rssTrend(samples: readonly RssSample[]): RssTrend {
  const second = samples.slice(Math.floor(samples.length / 2));
  const t0 = second[0]?.atMs ?? 0;
  const points = second.map((s) => ({ x: (s.atMs - t0) / 60_000, y: s.mb }));
  return {
    samples: samples.length,
    firstMb: samples[0]?.mb ?? 0,
    lastMb: samples.at(-1)?.mb ?? 0,
    peakMb: samples.reduce((max, s) => Math.max(max, s.mb), 0),
    slopeMbPerMin: slope(points),
    spanMin: second.length < 2 ? 0 : (second.at(-1)!.atMs - t0) / 60_000,
  };
}

/** The nearest-rank percentile (`p` in 0..100) of the values; null when there are none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}
