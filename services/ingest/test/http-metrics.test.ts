import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ConsumedRecord } from "@meshloop/bus";
import { decodeEnvelope } from "@meshloop/contracts";
import { eventually, uniqueName } from "@meshloop/test-harness";
import type { IngestFixture } from "./ingest-fixture.ts";
import { startIngest } from "./ingest-fixture.ts";

let ingest: IngestFixture;
before(async () => { ingest = await startIngest(); });
after(async () => { await ingest.stop(); });

const nowNanos = String(BigInt(Date.now()) * 1_000_000n);
const resource = (service: string, instance: string) => ({
  attributes: [
    { key: "service.name", value: { stringValue: service } },
    { key: "service.instance.id", value: { stringValue: instance } },
    { key: "service.version", value: { stringValue: "v2" } },
    { key: "cloud.availability_zone", value: { stringValue: "eu-west-1a" } },
  ],
});
const gauge = (name: string, value: number) => ({ name, unit: "1", gauge: { dataPoints: [{ timeUnixNano: nowNanos, asDouble: value }] } });

test("CPU and memory gauges go to the resource-metrics topic keyed by service; other metrics are counted as dropped", async () => {
  const body = {
    resourceMetrics: [
      { resource: resource("checkout", "checkout-1"), scopeMetrics: [{ metrics: [gauge("container.cpu.utilization", 0.42), gauge("http.server.active_requests", 3)] }] },
      { resource: resource("payments", "payments-9"), scopeMetrics: [{ metrics: [gauge("k8s.pod.memory_limit_utilization", 0.7)] }] },
    ],
  };
  const response = await fetch(`${ingest.httpUrl}/v1/metrics`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(response.status, 200);
  const received: ConsumedRecord[] = [];
  const consumer = ingest.bus.consumer({
    groupId: uniqueName("g"), topics: [ingest.topics.resourceMetrics], fromBeginning: true,
    handler: async (batch) => { received.push(...batch.records); },
  });
  await consumer.start();
  await eventually(() => received.length === 2, "one gauge batch per service");
  await consumer.stop();
  const batches = received.map((record) => ({ key: record.key!.toString(), envelope: decodeEnvelope(record.value!, "meshloop.gauges") }));
  const checkout = batches.find((b) => b.key === "checkout")!.envelope.data;
  assert.equal(checkout.samples.length, 1);
  assert.deepEqual(
    { instance: checkout.samples[0]!.instance, kind: checkout.samples[0]!.kind, value: checkout.samples[0]!.value, zone: checkout.samples[0]!.zone },
    { instance: "checkout-1", kind: "cpuUtilization", value: 0.42, zone: "eu-west-1a" },
  );
  assert.equal(batches.find((b) => b.key === "payments")!.envelope.data.samples[0]!.kind, "memoryUtilization");
  const metrics = await (await fetch(`${ingest.opsUrl}/metrics`)).text();
  assert.match(metrics, /meshloop_ingest_metric_points_total\{outcome="dropped"\} 1/);
  assert.match(metrics, /meshloop_ingest_metric_points_total\{outcome="accepted"\} 2/);
});
