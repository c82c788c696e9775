import type { GaugeExtraction, GaugeOptions, GaugeSource, ResourceGaugeMetric } from "./gauge-collector.ts";
import { GaugeCollector } from "./gauge-collector.ts";
import type { JsonObject } from "./json-values.ts";
import { arrayAt, JsonPath, objectAt } from "./json-values.ts";
import { emptyResourceInfo, noteResourceAttribute } from "./resource-attributes.ts";

/**
 * Resource gauges straight from an OTLP/JSON ExportMetricsServiceRequest, the same output as extractResourceGauges
 * gives for protobuf. Only what the gauges need is read and checked: resource attributes, metric names, and the
 * points of wanted metrics; unwanted metrics are counted, not validated.
 */
export function extractResourceGaugesFromJson(json: unknown, options: GaugeOptions = {}): GaugeExtraction {
  const path = new JsonPath();
  const request = objectAt(json, path);
  if (request === undefined) throw path.fail(undefined, "an object", json);
  const collector = new GaugeCollector(options);
  const resources = arrayAt(request.resourceMetrics, path, "resourceMetrics");
  path.push("resourceMetrics");
  for (let i = 0; i < resources.length; i++) {
    path.push(i);
    const rm = objectAt(resources[i], path);
    if (rm !== undefined) readResourceMetrics(rm, collector, path, i);
    path.pop();
  }
  path.pop();
  return collector.result();
}

function readResourceMetrics(rm: JsonObject, collector: GaugeCollector, path: JsonPath, resourceIndex: number): void {
  const info = emptyResourceInfo();
  const resource = objectAt(rm.resource, path, "resource");
  if (resource !== undefined) {
    path.push("resource");
    const attributes = arrayAt(resource.attributes, path, "attributes");
    for (let i = 0; i < attributes.length; i++) {
      const kv = attributes[i];
      if (typeof kv !== "object" || kv === null) continue;
      const { key, value } = kv as JsonObject;
      if (typeof key !== "string") continue;
      const any = typeof value === "object" && value !== null ? (value as JsonObject) : undefined;
      const text = typeof any?.stringValue === "string" ? any.stringValue : undefined;
      noteResourceAttribute(info, key, text);
    }
    path.pop();
  }
  const source = collector.source(info);
  const scopes = arrayAt(rm.scopeMetrics, path, "scopeMetrics");
  path.push("scopeMetrics");
  for (let s = 0; s < scopes.length; s++) {
    path.push(s);
    const scope = objectAt(scopes[s], path);
    const metrics = arrayAt(scope?.metrics, path, "metrics");
    path.push("metrics");
    for (let m = 0; m < metrics.length; m++) {
      path.push(m);
      const metric = objectAt(metrics[m], path);
      if (metric !== undefined) readMetric(metric, collector, source, path, resourceIndex);
      path.pop();
    }
    path.pop();
    path.pop();
  }
  path.pop();
}

const DATA_KEYS = ["gauge", "sum", "histogram", "exponentialHistogram", "summary"] as const;

function countPoints(metric: JsonObject): number {
  let points = 0;
  for (const key of DATA_KEYS) {
    const data = metric[key];
    if (typeof data !== "object" || data === null) continue;
    const dataPoints = (data as JsonObject).dataPoints;
    if (Array.isArray(dataPoints)) points += dataPoints.length;
  }
  return points;
}

function readMetric(metric: JsonObject, collector: GaugeCollector, source: GaugeSource | null, path: JsonPath, resourceIndex: number): void {
  const name = typeof metric.name === "string" ? metric.name : "";
  const wanted = collector.wanted(name);
  if (wanted === undefined) {
    collector.dropped += countPoints(metric);
    return;
  }
  const key = metric.gauge != null ? "gauge" : metric.sum != null ? "sum" : undefined;
  if (key === undefined) {
    const points = countPoints(metric);
    for (let i = 0; i < points; i++) collector.reject(`point ${i} of ${name} in resource ${resourceIndex}: not a gauge or sum`);
    return;
  }
  const numbers = objectAt(metric[key], path, key)!;
  path.push(key);
  const points = arrayAt(numbers.dataPoints, path, "dataPoints");
  path.push("dataPoints");
  collector.beginMetric();
  for (let i = 0; i < points.length; i++) {
    path.push(i);
    const point = objectAt(points[i], path);
    if (point !== undefined) readPoint(point, collector, source, wanted, path, () => `point ${i} of ${name} in resource ${resourceIndex}`);
    path.pop();
  }
  path.pop();
  path.pop();
}

function readPoint(
  point: JsonObject,
  collector: GaugeCollector,
  source: GaugeSource | null,
  metric: ResourceGaugeMetric,
  path: JsonPath,
  where: () => string,
): void {
  const flags = point.flags == null ? 0 : number(point.flags, path, "flags");
  if ((flags & 1) !== 0) {
    collector.dropped++;
    return;
  }
  const time = point.timeUnixNano == null ? 0 : number(point.timeUnixNano, path, "timeUnixNano");
  let value = NaN;
  if (point.asDouble != null) value = number(point.asDouble, path, "asDouble");
  else if (point.asInt != null) value = number(point.asInt, path, "asInt");
  collector.point(source, metric, time, value, where);
}

/** A number given as a JSON number or a string (proto3 JSON writes 64-bit integers and NaN/Infinity as strings). */
function number(value: unknown, path: JsonPath, field: string): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value);
    if (!Number.isNaN(parsed) || value === "NaN") return parsed;
  }
  throw path.fail(field, "a number or a numeric string", value);
}
