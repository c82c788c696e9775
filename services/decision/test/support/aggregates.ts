// Synthetic, valid WindowAggregates with real DDSketches, from a seeded random source, for scenario tests and the bench.
import { aggregateId, sketchGamma } from "@meshloop/contracts";
import type { InstanceSeries, LatencySketch, TargetRef, WindowAggregate } from "@meshloop/contracts";

export const target: TargetRef = { mesh: "lab", namespace: "shop", service: "checkout" };
export const WINDOW_MS = 10_000;
/** 2025-05-01T00:00:00Z: realistic epoch milliseconds, aligned to the window. */
export const T0 = 1_746_057_600_000;

/** mulberry32: small, fast, and the same sequence on every platform. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export function poisson(random: () => number, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 60) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = random(); p > limit; p *= random()) k++;
  return k;
}

export function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n < 200) {
    let k = 0;
    for (let i = 0; i < n; i++) if (random() < p) k++;
    return k;
  }
  const mean = n * p;
  if (mean < 30) return Math.min(n, poisson(random, mean));
  return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * normal(random))));
}

/** A sketch of the given latencies (ms), binned exactly as the contracts define it. */
export function sketchOf(latencies: readonly number[], relativeAccuracy = 0.01): LatencySketch {
  const gamma = sketchGamma(relativeAccuracy);
  const logGamma = Math.log(gamma);
  const bins = new Map<number, number>();
  let zeroCount = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const v of latencies) {
    sum += v;
    min = Math.min(min, v);
    max = Math.max(max, v);
    if (v < 1e-3) {
      zeroCount++;
      continue;
    }
    const index = Math.ceil(Math.log(v) / logGamma);
    bins.set(index, (bins.get(index) ?? 0) + 1);
  }
  const indexes = [...bins.keys()].sort((a, b) => a - b);
  return {
    relativeAccuracy,
    indexes,
    counts: indexes.map((i) => bins.get(i)!),
    zeroCount,
    count: latencies.length,
    sum,
    min: latencies.length > 0 ? min : 0,
    max,
  };
}

/** Latencies of a lognormal with the given median and log-sd. */
export function lognormalLatencies(random: () => number, n: number, medianMs: number, sigma: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = medianMs * Math.exp(sigma * normal(random));
  return out;
}

export interface VersionWindow {
  readonly requests: number;
  readonly errors: number;
  readonly latencies?: readonly number[];
  /** Instances the requests are spread over (round robin); default 2. */
  readonly instances?: number;
}

export interface WindowSpec {
  readonly startMs: number;
  readonly versions: Readonly<Record<string, VersionWindow>>;
  /** Versions with pods (resource gauges) but maybe no traffic yet. */
  readonly deployed?: readonly string[];
  readonly complete?: boolean;
  readonly windowMs?: number;
  readonly target?: TargetRef;
}

/** One complete window aggregate (one part) for the given traffic per version. */
export function windowAggregate(spec: WindowSpec): WindowAggregate {
  const t = spec.target ?? target;
  const windowMs = spec.windowMs ?? WINDOW_MS;
  const series: InstanceSeries[] = [];
  let accepted = 0;
  for (const [version, v] of Object.entries(spec.versions)) {
    const instances = v.instances ?? 2;
    const latencies = v.latencies ?? new Array<number>(v.requests).fill(20);
    for (let i = 0; i < instances; i++) {
      const share = (x: number) => Math.floor(x / instances) + (i < x % instances ? 1 : 0);
      const requests = share(v.requests);
      const errors = Math.min(requests, share(v.errors));
      const mine = latencies.filter((_, k) => k % instances === i);
      accepted += requests;
      series.push({
        version,
        instance: `${t.service}-${version}-${i}`,
        locality: { region: "eu-west-1", zone: `eu-west-1${"abc"[i % 3]}`, cluster: null },
        counters: {
          requests,
          errors,
          status: { "2xx": requests - errors, "3xx": 0, "4xx": 0, "401": 0, "403": 0, "5xx": errors, grpcErrors: 0 },
          latency: sketchOf(mine),
          sampling: "known",
        },
      });
    }
  }
  const resources = (spec.deployed ?? Object.keys(spec.versions)).map((version) => ({
    instance: `${t.service}-${version}-0`,
    version,
    cpuUtilization: 0.4,
    memoryUtilization: 0.5,
    memoryBytes: 256 * 1024 * 1024,
  }));
  const complete = spec.complete ?? true;
  return {
    id: aggregateId(t.service, spec.startMs, windowMs, 0, 1),
    service: t.service,
    target: t,
    windowStartMs: spec.startMs,
    windowMs,
    series,
    routes: [],
    inbound: [],
    outbound: [],
    spans: { accepted: accepted * 2, late: 0, skewed: 0, duplicate: 0 },
    resources,
    completeness: { complete, missingPartitions: complete ? [] : [3] },
    part: { index: 0, count: 1 },
  };
}

export interface VersionBehaviour {
  readonly errorRate: number;
  readonly medianMs: number;
  readonly sigma: number;
}

/** Requests split by weights (binomially), errors and lognormal latencies drawn per version. */
export function trafficWindow(
  random: () => number,
  startMs: number,
  requests: number,
  weights: Readonly<Record<string, number>>,
  behaviour: (version: string) => VersionBehaviour,
  deployed?: readonly string[],
): WindowAggregate {
  const versions: Record<string, VersionWindow> = {};
  let left = requests;
  let weightLeft = 100;
  const entries = Object.entries(weights).filter(([, w]) => w > 0);
  entries.forEach(([version, w], i) => {
    const n = i === entries.length - 1 ? left : binomial(random, left, w / weightLeft);
    left -= n;
    weightLeft -= w;
    const b = behaviour(version);
    versions[version] = {
      requests: n,
      errors: binomial(random, n, b.errorRate),
      latencies: lognormalLatencies(random, n, b.medianMs, b.sigma),
    };
  });
  return windowAggregate({ startMs, versions, deployed: deployed ?? Object.keys(weights) });
}

export interface InstanceWindow {
  readonly instance: string;
  readonly requests: number;
  readonly errors: number;
  readonly version?: string;
  readonly latencyMs?: number;
}

/** One window with exactly the given per-instance counts (for ejection scenarios). */
export function instancesWindow(startMs: number, instances: readonly InstanceWindow[], t: TargetRef = target): WindowAggregate {
  const base = windowAggregate({ startMs, versions: {}, target: t });
  const series: InstanceSeries[] = instances.map((i) => ({
    version: i.version ?? "v1",
    instance: i.instance,
    locality: { region: "eu-west-1", zone: "eu-west-1a", cluster: null },
    counters: {
      requests: i.requests,
      errors: i.errors,
      status: { "2xx": i.requests - i.errors, "3xx": 0, "4xx": 0, "401": 0, "403": 0, "5xx": i.errors, grpcErrors: 0 },
      latency: sketchOf(new Array<number>(i.requests).fill(i.latencyMs ?? 20)),
      sampling: "known",
    },
  }));
  const accepted = instances.reduce((a, i) => a + i.requests, 0);
  return { ...base, series, spans: { ...base.spans, accepted } };
}
