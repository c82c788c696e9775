export { ATTRIBUTES_ALWAYS_KEPT } from "./attribute-filter.ts";
export type { AttributeFilterOptions } from "./attribute-filter.ts";
export { encodeMetricsResponse, encodeRpcStatus, encodeTraceResponse } from "./export-response.ts";
export type { MetricsPartialSuccess, OtlpEncoding, TracePartialSuccess } from "./export-response.ts";
export { RESOURCE_GAUGE_METRICS } from "./gauge-collector.ts";
export type {
  GaugeExtraction,
  GaugeOptions,
  ResourceGauge,
  ResourceGaugeKind,
  ResourceGaugeMetric,
} from "./gauge-collector.ts";
export { extractResourceGauges } from "./metrics-gauges.ts";
export { extractResourceGaugesFromJson } from "./metrics-gauges-json.ts";
export { effectiveServiceName, UNKNOWN_SERVICE } from "./resource-attributes.ts";
export type { ResourceInfo } from "./resource-attributes.ts";
export { encodeTraceRequestFromJson } from "./trace-json.ts";
export { splitTraceRequest } from "./trace-split.ts";
export type { PartitionMessage, SplitOptions, SplitResult } from "./trace-split.ts";
export { SpanCursor, visitSpans } from "./trace-visit.ts";
export type { AttributeValue, ResourceSummary } from "./trace-visit.ts";
export { WireReader } from "./wire-reader.ts";
export { WireWriter } from "./wire-writer.ts";
