import assert from "node:assert/strict";
import { test } from "node:test";
import { register as globalRegistry } from "prom-client";
import { createMetrics } from "../src/index.ts";

test("each service gets its own registry, so two can define the same metric in one process", async () => {
  const ingest = createMetrics({ defaultMetrics: false, labels: { service: "ingest" } });
  const aggregator = createMetrics({ defaultMetrics: false, labels: { service: "aggregator" } });
  ingest.counter({ name: "meshloop_records_total", help: "Records." }).inc(2);
  aggregator.counter({ name: "meshloop_records_total", help: "Records." }).inc(5);
  assert.match(await ingest.registry.metrics(), /^meshloop_records_total\{service="ingest"\} 2$/m);
  assert.match(await aggregator.registry.metrics(), /^meshloop_records_total\{service="aggregator"\} 5$/m);
  assert.equal(globalRegistry.getSingleMetric("meshloop_records_total"), undefined, "the global registry stays untouched");
});

test("default process metrics are collected under the prefix", async () => {
  const metrics = createMetrics({ prefix: "meshloop_" });
  const text = await metrics.registry.metrics();
  assert.match(text, /^meshloop_process_cpu_user_seconds_total /m);
  assert.match(text, /^meshloop_nodejs_eventloop_lag_seconds /m);
  assert.doesNotMatch(await createMetrics({ defaultMetrics: false }).registry.metrics(), /process_cpu/);
});

test("gauges and histograms land on the service registry", async () => {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.gauge({ name: "meshloop_lag_records", help: "Consumer lag.", labelNames: ["partition"] }).set({ partition: "0" }, 12);
  metrics.histogram({ name: "meshloop_decision_seconds", help: "Decision time.", buckets: [0.1, 1] }).observe(0.5);
  const text = await metrics.registry.metrics();
  assert.match(text, /^meshloop_lag_records\{partition="0"\} 12$/m);
  assert.match(text, /^meshloop_decision_seconds_bucket\{le="0.1"\} 0$/m);
  assert.match(text, /^meshloop_decision_seconds_bucket\{le="1"\} 1$/m);
});

test("asking twice for a metric returns the same one; a different kind under the name is refused", () => {
  const metrics = createMetrics({ defaultMetrics: false });
  const first = metrics.counter({ name: "meshloop_restarts_total", help: "Restarts." });
  assert.equal(metrics.counter({ name: "meshloop_restarts_total", help: "Restarts." }), first);
  assert.throws(() => metrics.gauge({ name: "meshloop_restarts_total", help: "Restarts." }), /different kind \(Counter\)/);
});
