import type { CounterConfiguration, GaugeConfiguration, HistogramConfiguration, Metric } from "prom-client";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export interface MetricsOptions {
  /** Prefix for the default process metrics (process_cpu_seconds_total -> meshloop_process_cpu_seconds_total). */
  prefix?: string;
  /** Collect the default process metrics (CPU, memory, event loop lag, GC); on unless false. */
  defaultMetrics?: boolean;
  /** Labels added to every metric of this registry, e.g. { service: "aggregator" } in the embedded mode. */
  labels?: Record<string, string>;
}

type WithoutRegisters<T> = Omit<T, "registers">;

/**
 * A service's own Prometheus registry and metric constructors bound to it. Never prom-client's global registry:
 * the embedded mode runs every service in one process, and each must expose only its own metrics.
 */
export interface Metrics {
  readonly registry: Registry;
  /** Creates the counter, or returns the one already registered under that name. */
  counter<L extends string = string>(config: WithoutRegisters<CounterConfiguration<L>>): Counter<L>;
  gauge<L extends string = string>(config: WithoutRegisters<GaugeConfiguration<L>>): Gauge<L>;
  histogram<L extends string = string>(config: WithoutRegisters<HistogramConfiguration<L>>): Histogram<L>;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.labels !== undefined) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry, prefix: options.prefix });
  }

  // Components created more than once (one per partition, a restarted consumer) get the same metric back instead
  // of prom-client's "already registered" error; a different kind under the same name is still a bug.
  function getOrCreate<M extends Metric>(name: string, kind: abstract new (...args: never[]) => M, create: () => M): M {
    const existing = registry.getSingleMetric(name);
    if (existing === undefined) return create();
    if (existing instanceof kind) return existing;
    throw new TypeError(`metric ${name} is already registered as a different kind (${existing.constructor.name})`);
  }

  return {
    registry,
    counter: (config) => getOrCreate(config.name, Counter, () => new Counter({ ...config, registers: [registry] })),
    gauge: (config) => getOrCreate(config.name, Gauge, () => new Gauge({ ...config, registers: [registry] })),
    histogram: (config) => getOrCreate(config.name, Histogram, () => new Histogram({ ...config, registers: [registry] })),
  };
}
