import type { Metrics } from "@meshloop/runtime";

export type Protocol = "http" | "grpc";
export type Signal = "traces" | "metrics";

/** The ingest's Prometheus series, created once; every discarded span or point has a counter here. */
export function ingestMetrics(metrics: Metrics) {
  return {
    requests: metrics.counter({
      name: "meshloop_ingest_requests_total",
      help: "OTLP export requests by protocol, signal and outcome (ok, partial, bad_request, unauthenticated, too_large, unsupported_media_type, throttled, unavailable, error).",
      labelNames: ["protocol", "signal", "outcome"] as const,
    }),
    spans: metrics.counter({
      name: "meshloop_ingest_spans_total",
      help: "Spans received, accepted (acknowledged by Kafka) and rejected (invalid, reported through partial_success).",
      labelNames: ["outcome"] as const,
    }),
    strippedAttributes: metrics.counter({
      name: "meshloop_ingest_attributes_stripped_total",
      help: "Span and event attributes removed by MESHLOOP_INGEST_ATTRIBUTES_ALLOW / _DENY before Kafka.",
    }),
    points: metrics.counter({
      name: "meshloop_ingest_metric_points_total",
      help: "Metric data points accepted (a resource gauge the loop uses), dropped (a metric the loop does not use) and rejected (invalid).",
      labelNames: ["outcome"] as const,
    }),
    bytes: metrics.counter({
      name: "meshloop_ingest_received_bytes_total",
      help: "Request body bytes as received (compressed when the client compressed).",
      labelNames: ["protocol", "signal"] as const,
    }),
    duration: metrics.histogram({
      name: "meshloop_ingest_request_duration_seconds",
      help: "Time from a request's arrival to its answer.",
      labelNames: ["protocol", "signal"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    produce: metrics.histogram({
      name: "meshloop_ingest_kafka_produce_duration_seconds",
      help: "Time Kafka took to acknowledge one request's records on all in-sync replicas.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    inflight: metrics.gauge({
      name: "meshloop_ingest_inflight_bytes",
      help: "Bytes of requests being received or waiting for Kafka.",
    }),
  };
}

export type IngestMetrics = ReturnType<typeof ingestMetrics>;
