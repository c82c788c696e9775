import { z } from "zod";

/**
 * Resource gauges (CPU, memory) as the ingest writes them to the resource-metrics topic: one batch per service and
 * request, keyed by the service name, so stage 2 of the aggregator joins them with that service's window.
 * Only the metrics the scaling controller reads are kept (see @meshloop/otlp RESOURCE_GAUGE_METRICS).
 */
export const gaugeKindSchema = z.enum(["cpuUtilization", "memoryUtilization", "memoryBytes"]);
export type GaugeKind = z.infer<typeof gaugeKindSchema>;

export const gaugeSampleSchema = z.object({
  instance: z.string().min(1),
  namespace: z.string().nullable(),
  version: z.string().nullable(),
  region: z.string().nullable(),
  zone: z.string().nullable(),
  cluster: z.string().nullable(),
  /** The OpenTelemetry metric name it came from, e.g. `container.cpu.utilization`. */
  metric: z.string().min(1),
  kind: gaugeKindSchema,
  /** A ratio (1 = 100%) for utilizations, bytes for memoryBytes. */
  value: z.number().finite().min(0),
  timeUnixMs: z.int().min(0),
});
export type GaugeSample = z.infer<typeof gaugeSampleSchema>;

export const gaugeBatchSchema = z.object({
  /** `gauges:{service}:{receivedAtMs}:{nonce}`: unique per ingest request and service. */
  id: z.string().min(1),
  service: z.string().min(1),
  /** When the ingest received the request (the record timestamp carries the same). */
  receivedAtMs: z.int().min(0),
  samples: z.array(gaugeSampleSchema).min(1),
});
export type GaugeBatch = z.infer<typeof gaugeBatchSchema>;
