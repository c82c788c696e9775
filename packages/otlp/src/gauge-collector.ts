import type { ResourceInfo } from "./resource-attributes.ts";
import { effectiveServiceName } from "./resource-attributes.ts";

/**
 * What the scaling loop reads from metrics: CPU and memory of each service instance. The table below is the set of
 * metric names taken (OpenTelemetry semantic conventions and the Collector's kubeletstats receiver); every other
 * metric's points are counted as dropped, which is not an error.
 *
 * | metric                                  | kind              | unit | what it measures                           |
 * |-----------------------------------------|-------------------|------|--------------------------------------------|
 * | process.cpu.utilization                 | cpuUtilization    | 1    | process CPU / (elapsed x CPUs available)   |
 * | jvm.cpu.recent_utilization              | cpuUtilization    | 1    | the JVM's own recent process CPU           |
 * | container.cpu.utilization               | cpuUtilization    | 1    | container CPU / node capacity (kubelet)    |
 * | k8s.pod.cpu.utilization                 | cpuUtilization    | 1    | pod CPU / node capacity (kubelet)          |
 * | k8s.container.cpu_limit_utilization     | cpuUtilization    | 1    | container CPU / its CPU limit              |
 * | k8s.pod.cpu_limit_utilization           | cpuUtilization    | 1    | pod CPU / sum of its containers' limits    |
 * | k8s.container.memory_limit_utilization  | memoryUtilization | 1    | container memory / its memory limit        |
 * | k8s.pod.memory_limit_utilization        | memoryUtilization | 1    | pod memory / sum of its containers' limits |
 * | process.memory.usage                    | memoryBytes       | By   | resident set size                          |
 * | container.memory.usage                  | memoryBytes       | By   | container memory incl. cache (kubelet)     |
 * | k8s.pod.memory.usage                    | memoryBytes       | By   | pod memory incl. cache (kubelet)           |
 *
 * Ratios are 1 = 100%. Not taken: system.cpu.utilization and system.memory.utilization describe a whole host
 * (shared by many instances in a mesh) and need per-state arithmetic; process.memory.utilization is reported in
 * percent by the Collector's hostmetrics receiver despite its unit "1", so its scale cannot be trusted.
 * Points of one metric with the same timestamp are summed: process.cpu.utilization comes split by `cpu.mode`.
 */

export type ResourceGaugeKind = "cpuUtilization" | "memoryUtilization" | "memoryBytes";

export interface ResourceGaugeMetric {
  readonly name: string;
  readonly kind: ResourceGaugeKind;
  /** UCUM: "1" for a ratio, "By" for bytes. */
  readonly unit: "1" | "By";
}

export const RESOURCE_GAUGE_METRICS: readonly ResourceGaugeMetric[] = [
  { name: "process.cpu.utilization", kind: "cpuUtilization", unit: "1" },
  { name: "jvm.cpu.recent_utilization", kind: "cpuUtilization", unit: "1" },
  { name: "container.cpu.utilization", kind: "cpuUtilization", unit: "1" },
  { name: "k8s.pod.cpu.utilization", kind: "cpuUtilization", unit: "1" },
  { name: "k8s.container.cpu_limit_utilization", kind: "cpuUtilization", unit: "1" },
  { name: "k8s.pod.cpu_limit_utilization", kind: "cpuUtilization", unit: "1" },
  { name: "k8s.container.memory_limit_utilization", kind: "memoryUtilization", unit: "1" },
  { name: "k8s.pod.memory_limit_utilization", kind: "memoryUtilization", unit: "1" },
  { name: "process.memory.usage", kind: "memoryBytes", unit: "By" },
  { name: "container.memory.usage", kind: "memoryBytes", unit: "By" },
  { name: "k8s.pod.memory.usage", kind: "memoryBytes", unit: "By" },
];

export interface ResourceGauge {
  /** `service.name`, or `unknown_service[:<process.executable.name>]`. */
  readonly service: string;
  readonly namespace: string | undefined;
  /** `service.instance.id`, else `k8s.pod.name`, else `host.name`. */
  readonly instance: string;
  readonly version: string | undefined;
  /** `cloud.region`, `cloud.availability_zone`, `k8s.cluster.name`. */
  readonly region: string | undefined;
  readonly zone: string | undefined;
  readonly cluster: string | undefined;
  readonly metric: string;
  readonly kind: ResourceGaugeKind;
  value: number;
  /** The point's time_unix_nano in milliseconds (rounded down). */
  readonly timeUnixMs: number;
}

export interface GaugeExtraction {
  readonly gauges: ResourceGauge[];
  /** Points taken (several points summed into one gauge count each). */
  readonly acceptedPoints: number;
  /** Points of metrics not in the table, or flagged as having no recorded value. */
  readonly droppedPoints: number;
  /** Points of wanted metrics that could not be used: no instance, no time, a value that is not a finite number >= 0. */
  readonly rejectedPoints: number;
  readonly errorMessage: string | undefined;
}

export interface GaugeOptions {
  /** The metrics to take; default RESOURCE_GAUGE_METRICS. */
  readonly metrics?: readonly ResourceGaugeMetric[];
}

/** The identity of a resource's gauges; null when the resource names no instance. */
export type GaugeSource = Omit<ResourceGauge, "metric" | "kind" | "value" | "timeUnixMs">;

const MAX_REASONS = 5;
const DEFAULT_METRICS = new Map(RESOURCE_GAUGE_METRICS.map((m) => [m.name, m]));

/** Accumulates gauges and counts for both the protobuf and the JSON reader. */
export class GaugeCollector {
  readonly gauges: ResourceGauge[] = [];
  accepted = 0;
  dropped = 0;
  rejected = 0;
  private readonly reasons: string[] = [];
  private readonly metrics: ReadonlyMap<string, ResourceGaugeMetric>;
  private metricStart = 0;
  // The exact time_unix_nano of each gauge, so only points of the very same timestamp are summed.
  private readonly times: number[] = [];

  constructor(options: GaugeOptions = {}) {
    this.metrics = options.metrics ? new Map(options.metrics.map((m) => [m.name, m])) : DEFAULT_METRICS;
  }

  wanted(name: string): ResourceGaugeMetric | undefined {
    return this.metrics.get(name);
  }

  source(info: ResourceInfo): GaugeSource | null {
    const instance = info.serviceInstanceId || info.k8sPodName || info.hostName;
    if (!instance) return null;
    return {
      service: effectiveServiceName(info),
      namespace: info.serviceNamespace,
      instance,
      version: info.serviceVersion,
      region: info.cloudRegion,
      zone: info.cloudAvailabilityZone,
      cluster: info.k8sClusterName,
    };
  }

  /** Marks the start of a metric's points, the range within which equal timestamps are summed. */
  beginMetric(): void {
    this.metricStart = this.gauges.length;
  }

  /** Takes one point; `where` describes it for a rejection reason and is only called when one is kept. */
  point(source: GaugeSource | null, metric: ResourceGaugeMetric, timeUnixNano: number, value: number, where: () => string): void {
    let problem: string | undefined;
    if (source === null) problem = "its resource has no service.instance.id, k8s.pod.name or host.name";
    else if (timeUnixNano <= 0) problem = "time_unix_nano is not set";
    else if (!Number.isFinite(value) || value < 0) problem = `value ${value} is not a finite number >= 0`;
    if (source === null || problem !== undefined) {
      this.reject(`${where()}: ${problem}`);
      return;
    }
    this.accepted++;
    for (let i = this.metricStart; i < this.gauges.length; i++) {
      if (this.times[i] === timeUnixNano) {
        this.gauges[i]!.value += value;
        return;
      }
    }
    const gauge: ResourceGauge = {
      ...source,
      metric: metric.name,
      kind: metric.kind,
      value,
      timeUnixMs: Math.floor(timeUnixNano / 1e6),
    };
    this.gauges.push(gauge);
    this.times.push(timeUnixNano);
  }

  reject(reason: string): void {
    this.rejected++;
    if (this.reasons.length < MAX_REASONS) this.reasons.push(reason);
  }

  result(): GaugeExtraction {
    let errorMessage: string | undefined;
    if (this.rejected > 0) {
      const more = this.rejected - this.reasons.length;
      const noun = this.rejected === 1 ? "point" : "points";
      errorMessage = `${this.rejected} ${noun} rejected: ${this.reasons.join("; ")}${more > 0 ? `; and ${more} more` : ""}`;
    }
    return {
      gauges: this.gauges,
      acceptedPoints: this.accepted,
      droppedPoints: this.dropped,
      rejectedPoints: this.rejected,
      errorMessage,
    };
  }
}
