import type { GaugeExtraction, GaugeOptions, GaugeSource, ResourceGaugeMetric } from "./gauge-collector.ts";
import { GaugeCollector } from "./gauge-collector.ts";
import { emptyResourceInfo, readResourceInfo } from "./resource-attributes.ts";
import { WireReader } from "./wire-reader.ts";

/**
 * Resource gauges from ExportMetricsServiceRequest bytes. Reads resource attributes once per ResourceMetrics and,
 * per Metric, the name first: only the few wanted metrics have their points decoded, the others' points are
 * counted and skipped. Field numbers (opentelemetry/proto/metrics/v1/metrics.proto):
 *   ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
 *   ScopeMetrics { repeated Metric metrics = 2; }
 *   Metric { string name = 1; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; ExponentialHistogram = 10;
 *            Summary summary = 11; }  Gauge, Sum and the others: { repeated ...DataPoint data_points = 1; }
 *   NumberDataPoint { fixed64 time_unix_nano = 3; double as_double = 4; sfixed64 as_int = 6; uint32 flags = 8; }
 */

const GAUGE = 5;
const SUM = 7;
// The fields of the Metric.data oneof (6 and 8 are reserved).
const DATA_NAMES: Readonly<Record<number, string>> = {
  [GAUGE]: "gauge",
  [SUM]: "sum",
  9: "histogram",
  10: "exponential histogram",
  11: "summary",
};
// DataPointFlags.FLAG_NO_RECORDED_VALUE: the point marks a gap, it carries no value.
const NO_RECORDED_VALUE = 1;

export function extractResourceGauges(body: Uint8Array, options: GaugeOptions = {}): GaugeExtraction {
  const collector = new GaugeCollector(options);
  const r = new WireReader(body);
  let resourceIndex = 0;
  while (r.more()) {
    const tag = r.tag();
    if (tag !== 0x0a) {
      r.skip(tag);
      continue;
    }
    const outer = r.enter(r.length());
    readResourceMetrics(r, collector, resourceIndex++);
    r.leave(outer);
  }
  return collector.result();
}

function readResourceMetrics(r: WireReader, collector: GaugeCollector, resourceIndex: number): void {
  // The resource first, wherever it is among the fields, then the metrics.
  const start = r.pos;
  const info = emptyResourceInfo();
  while (r.more()) {
    const tag = r.tag();
    if (tag !== 0x0a) {
      r.skip(tag);
      continue;
    }
    const outer = r.enter(r.length());
    readResourceInfo(r, info);
    r.leave(outer);
  }
  r.pos = start;
  const source = collector.source(info);
  while (r.more()) {
    const tag = r.tag();
    if (tag !== 0x12) {
      r.skip(tag);
      continue;
    }
    const scopeOuter = r.enter(r.length());
    while (r.more()) {
      const scopeTag = r.tag();
      if (scopeTag !== 0x12) {
        r.skip(scopeTag);
        continue;
      }
      const metricOuter = r.enter(r.length());
      readMetric(r, collector, source, resourceIndex);
      r.leave(metricOuter);
    }
    r.leave(scopeOuter);
  }
}

function readMetric(r: WireReader, collector: GaugeCollector, source: GaugeSource | null, resourceIndex: number): void {
  let name = "";
  let dataField = 0;
  let dataStart = -1;
  let dataEnd = -1;
  while (r.more()) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const start = r.skipBytes();
      name = r.buf.toString("utf8", start, r.pos);
    } else if ((tag & 7) === 2 && DATA_NAMES[tag >>> 3] !== undefined) {
      dataField = tag >>> 3;
      dataStart = r.skipBytes();
      dataEnd = r.pos;
    } else {
      r.skip(tag);
    }
  }
  if (dataStart < 0) return;
  const data = new WireReader(r.buf, dataStart, dataEnd);
  const metric = collector.wanted(name);
  if (metric === undefined) {
    collector.dropped += countDataPoints(data);
    return;
  }
  if (dataField !== GAUGE && dataField !== SUM) {
    const points = countDataPoints(data);
    for (let i = 0; i < points; i++) {
      collector.reject(`point ${i} of ${name} in resource ${resourceIndex}: not a gauge or sum but ${DATA_NAMES[dataField]}`);
    }
    return;
  }
  collector.beginMetric();
  let pointIndex = 0;
  while (data.more()) {
    const tag = data.tag();
    if (tag !== 0x0a) {
      data.skip(tag);
      continue;
    }
    const outer = data.enter(data.length());
    readNumberDataPoint(data, collector, source, metric, () => `point ${pointIndex} of ${name} in resource ${resourceIndex}`);
    data.leave(outer);
    pointIndex++;
  }
}


function readNumberDataPoint(
  r: WireReader,
  collector: GaugeCollector,
  source: GaugeSource | null,
  metric: ResourceGaugeMetric,
  where: () => string,
): void {
  let time = 0;
  let value = NaN;
  let flags = 0;
  while (r.more()) {
    const tag = r.tag();
    switch (tag) {
      case 0x19: // time_unix_nano
        time = r.fixed64();
        break;
      case 0x21: // as_double
        value = r.double();
        break;
      case 0x31: // as_int
        value = r.sfixed64();
        break;
      case 0x40: // flags
        flags = r.varint32();
        break;
      default:
        r.skip(tag);
    }
  }
  if ((flags & NO_RECORDED_VALUE) !== 0) {
    collector.dropped++;
    return;
  }
  collector.point(source, metric, time, value, where);
}

function countDataPoints(data: WireReader): number {
  let points = 0;
  while (data.more()) {
    const tag = data.tag();
    if (tag === 0x0a) points++;
    data.skip(tag);
  }
  return points;
}
