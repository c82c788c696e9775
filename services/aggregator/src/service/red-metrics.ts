import type { WindowAggregate } from "@meshloop/contracts";
import type { Metrics } from "@meshloop/runtime";

/**
 * RED series on /metrics under the names of the OpenTelemetry Collector's spanmetrics and servicegraph connectors,
 * where the meaning is the same, so existing Grafana service-graph panels work on meshloop's /metrics.
 * Counted from the final aggregates this process emits (each stage-2 instance exposes its own services; Prometheus
 * sums instances). An edge is counted from its caller's aggregate, or from its callee's when the caller has none of
 * its own (an uninstrumented or unresolvable caller). Like any Prometheus counter these are at-least-once: an
 * aggregate redone after a crash is counted again here, never in the aggregates topic.
 */
export function redMetrics(metrics: Metrics) {
  const calls = metrics.counter({
    name: "traces_span_metrics_calls_total",
    help: "Server and consumer spans by service, version and status (spanmetrics connector naming).",
    labelNames: ["service_name", "service_version", "span_kind", "status_code"] as const,
  });
  const edges = metrics.counter({
    name: "traces_service_graph_request_total",
    help: "Requests between two services (servicegraph connector naming).",
    labelNames: ["client", "server", "connection_type", "failed"] as const,
  });
  const failedEdges = metrics.counter({
    name: "traces_service_graph_request_failed_total",
    help: "Failed requests between two services (servicegraph connector naming).",
    labelNames: ["client", "server", "connection_type"] as const,
  });
  return (aggregate: WindowAggregate): void => {
    for (const series of aggregate.series) {
      const ok = series.counters.requests - series.counters.errors;
      const labels = { service_name: aggregate.service, service_version: series.version, span_kind: "SPAN_KIND_SERVER" };
      if (ok > 0) calls.inc({ ...labels, status_code: "STATUS_CODE_UNSET" }, ok);
      if (series.counters.errors > 0) calls.inc({ ...labels, status_code: "STATUS_CODE_ERROR" }, series.counters.errors);
    }
    const count = (client: string, server: string, type: string, requests: number, errors: number): void => {
      const labels = { client, server, connection_type: type === "direct" ? "" : type };
      if (requests - errors > 0) edges.inc({ ...labels, failed: "false" }, requests - errors);
      if (errors > 0) {
        edges.inc({ ...labels, failed: "true" }, errors);
        failedEdges.inc(labels, errors);
      }
    };
    for (const edge of aggregate.outbound) count(edge.caller.service, edge.callee.service, edge.connectionType, edge.counters.requests, edge.counters.errors);
    for (const edge of aggregate.inbound) {
      // Only when the caller produced no aggregate of its own (it is not instrumented, or resolved to no target).
      if (edge.caller.service.startsWith("unknown_service")) {
        count(edge.caller.service, edge.callee.service, edge.connectionType, edge.counters.requests, edge.counters.errors);
      }
    }
  };
}
