import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Attributes } from "@opentelemetry/api";
import { ValueType } from "@opentelemetry/api";
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ResourceMetrics } from "@opentelemetry/sdk-metrics";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import { extractResourceGauges, extractResourceGaugesFromJson, RESOURCE_GAUGE_METRICS } from "../src/index.ts";
import type { GaugeExtraction } from "../src/index.ts";
import { fixed64Field, ld, stringAttribute } from "./protobuf-fields.ts";

class TestReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

type Instrument = (meter: ReturnType<MeterProvider["getMeter"]>) => void;

/** ResourceMetrics as the SDK's reader collects them from the given instruments. */
async function collect(resource: Attributes, instruments: Instrument): Promise<ResourceMetrics> {
  const reader = new TestReader();
  const provider = new MeterProvider({ resource: resourceFromAttributes(resource), readers: [reader] });
  instruments(provider.getMeter("host-metrics", "0.36.0"));
  const { resourceMetrics, errors } = await reader.collect();
  assert.deepEqual(errors, []);
  await provider.shutdown();
  return resourceMetrics;
}

function protobuf(metrics: ResourceMetrics): Buffer {
  return Buffer.from(ProtobufMetricsSerializer.serializeRequest(metrics)!);
}

function json(metrics: ResourceMetrics): unknown {
  return JSON.parse(Buffer.from(JsonMetricsSerializer.serializeRequest(metrics)!).toString());
}

const SERVICE = {
  "service.name": "checkout",
  "service.namespace": "shop",
  "service.version": "1.4.2",
  "service.instance.id": "checkout-7d9f-abc",
  "k8s.pod.name": "checkout-7d9f-abc-pod",
  "cloud.region": "eu-west-1",
  "cloud.availability_zone": "eu-west-1b",
  "k8s.cluster.name": "prod-1",
};

const instruments: Instrument = (meter) => {
  meter.createObservableGauge("process.cpu.utilization", { unit: "1" }).addCallback((r) => {
    r.observe(0.25, { "cpu.mode": "user" });
    r.observe(0.125, { "cpu.mode": "system" });
  });
  meter.createObservableUpDownCounter("process.memory.usage", { unit: "By", valueType: ValueType.INT }).addCallback((r) => r.observe(123_456_789));
  meter.createObservableGauge("k8s.pod.memory_limit_utilization").addCallback((r) => r.observe(0.5));
  meter.createObservableGauge("jvm.cpu.recent_utilization").addCallback((r) => r.observe(-0.1));
  // Not wanted: two points of a counter and one of a histogram are dropped.
  const requests = meter.createCounter("http.server.requests");
  requests.add(3, { route: "/a" });
  requests.add(1, { route: "/b" });
  meter.createHistogram("http.server.request.duration").record(0.2);
};

function withoutTime(result: GaugeExtraction): unknown {
  return result.gauges.map(({ timeUnixMs, ...rest }) => ({ ...rest, recent: Math.abs(Date.now() - timeUnixMs) < 60_000 }));
}

describe("extractResourceGauges", () => {
  it("takes CPU and memory of each instance from SDK metrics, and counts the rest as dropped", async () => {
    const result = extractResourceGauges(protobuf(await collect(SERVICE, instruments)));
    const identity = {
      service: "checkout",
      namespace: "shop",
      instance: "checkout-7d9f-abc",
      version: "1.4.2",
      region: "eu-west-1",
      zone: "eu-west-1b",
      cluster: "prod-1",
      recent: true,
    };
    assert.deepEqual(withoutTime(result), [
      // user + system: the points of one timestamp are summed.
      { ...identity, metric: "process.cpu.utilization", kind: "cpuUtilization", value: 0.375 },
      { ...identity, metric: "process.memory.usage", kind: "memoryBytes", value: 123_456_789 },
      { ...identity, metric: "k8s.pod.memory_limit_utilization", kind: "memoryUtilization", value: 0.5 },
    ]);
    assert.equal(result.acceptedPoints, 4);
    assert.equal(result.droppedPoints, 3);
    assert.equal(result.rejectedPoints, 1);
    assert.equal(result.errorMessage, "1 point rejected: point 0 of jvm.cpu.recent_utilization in resource 0: value -0.1 is not a finite number >= 0");
  });

  it("falls back to k8s.pod.name, then host.name, for the instance; rejects points of resources with neither", async () => {
    const gauge: Instrument = (meter) => meter.createObservableGauge("container.cpu.utilization").addCallback((r) => r.observe(0.3));
    const pod = extractResourceGauges(protobuf(await collect({ "service.name": "a", "k8s.pod.name": "a-1", "host.name": "n" }, gauge)));
    assert.equal(pod.gauges[0]!.instance, "a-1");
    const host = extractResourceGauges(protobuf(await collect({ "host.name": "node-7" }, gauge)));
    assert.equal(host.gauges[0]!.instance, "node-7");
    assert.equal(host.gauges[0]!.service, "unknown_service");
    const none = extractResourceGauges(protobuf(await collect({ "service.name": "a" }, gauge)));
    assert.deepEqual([none.gauges.length, none.rejectedPoints], [0, 1]);
    assert.match(none.errorMessage ?? "", /no service.instance.id, k8s.pod.name or host.name/);
  });

  it("rejects the points of a wanted metric that is not a gauge or sum", async () => {
    const histogram: Instrument = (meter) => meter.createHistogram("process.cpu.utilization").record(0.5);
    const result = extractResourceGauges(protobuf(await collect(SERVICE, histogram)));
    assert.deepEqual([result.gauges.length, result.rejectedPoints], [0, 1]);
    assert.match(result.errorMessage ?? "", /not a gauge or sum but histogram/);
  });

  it("takes only the metrics asked for", async () => {
    const result = extractResourceGauges(protobuf(await collect(SERVICE, instruments)), {
      metrics: [{ name: "process.memory.usage", kind: "memoryBytes", unit: "By" }],
    });
    assert.deepEqual(result.gauges.map((g) => g.metric), ["process.memory.usage"]);
    assert.equal(result.droppedPoints, 7);
  });

  it("reads every resource of a request, and ignores points flagged as having no value", () => {
    const point = (time: bigint, value: number, flags = 0): Buffer => {
      const v = Buffer.alloc(9);
      v[0] = 0x21;
      v.writeDoubleLE(value, 1);
      return ld(1, fixed64Field(3, time), v, flags ? Buffer.from([0x40, flags]) : Buffer.alloc(0));
    };
    const resourceMetrics = (instance: string, value: number): Buffer =>
      ld(1,
        ld(1, stringAttribute("service.name", "svc"), stringAttribute("service.instance.id", instance)),
        ld(2, ld(2, ld(1, "k8s.pod.cpu.utilization"), ld(5, point(1_700_000_000_000_000_000n, value), point(1_700_000_001_000_000_000n, 0, 1)))),
      );
    const result = extractResourceGauges(Buffer.concat([resourceMetrics("i-1", 0.1), resourceMetrics("i-2", 0.9)]));
    assert.deepEqual(result.gauges.map((g) => [g.instance, g.value, g.timeUnixMs]), [["i-1", 0.1, 1_700_000_000_000], ["i-2", 0.9, 1_700_000_000_000]]);
    assert.deepEqual([result.acceptedPoints, result.droppedPoints, result.rejectedPoints], [2, 2, 0]);
  });

  it("lists ratios with unit 1 and byte counts with unit By", () => {
    for (const metric of RESOURCE_GAUGE_METRICS) assert.equal(metric.unit, metric.kind === "memoryBytes" ? "By" : "1");
  });
});

describe("extractResourceGaugesFromJson", () => {
  it("gives for OTLP/JSON what extractResourceGauges gives for protobuf", async () => {
    const metrics = await collect(SERVICE, instruments);
    assert.deepEqual(extractResourceGaugesFromJson(json(metrics)), extractResourceGauges(protobuf(metrics)));
    const bare = await collect({ "host.name": "h" }, (m) => m.createObservableGauge("container.memory.usage").addCallback((r) => r.observe(5)));
    assert.deepEqual(extractResourceGaugesFromJson(json(bare)), extractResourceGauges(protobuf(bare)));
  });

  it("reads values and times given as strings, and names the path of a bad one", () => {
    const request = (point: Record<string, unknown>): unknown => ({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: "service.instance.id", value: { stringValue: "i" } }] },
          scopeMetrics: [{ metrics: [{ name: "process.memory.usage", sum: { dataPoints: [point] } }, { name: "other", gauge: { dataPoints: "ignored" } }] }],
        },
      ],
    });
    const result = extractResourceGaugesFromJson(request({ timeUnixNano: "1700000000000000000", asInt: "1048576" }));
    assert.deepEqual(result.gauges.map((g) => [g.service, g.value, g.timeUnixMs]), [["unknown_service", 1_048_576, 1_700_000_000_000]]);
    assert.throws(
      () => extractResourceGaugesFromJson(request({ timeUnixNano: "1", asDouble: {} })),
      /^ValidationError: resourceMetrics\[0\]\.scopeMetrics\[0\]\.metrics\[0\]\.sum\.dataPoints\[0\]\.asDouble: expected a number or a numeric string, got an object$/,
    );
    assert.throws(() => extractResourceGaugesFromJson({ resourceMetrics: {} }), /resourceMetrics: expected an array, got an object/);
  });
});
