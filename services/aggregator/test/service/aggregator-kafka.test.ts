// The aggregator on the real Kafka and Redis: generated span streams with known answers go into the spans topic
// (partitioned as the ingest does), both stages run, and the final aggregates' totals equal the generated ones exactly.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { encodeEnvelope } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import type { InfraLease } from "@meshloop/test-harness";
import { acquireInfra, eventually } from "@meshloop/test-harness";
import { aggregatorConfig } from "../../src/service/config.ts";
import { createAggregatorService } from "../../src/service/aggregator-service.ts";
import { assertTotals, expectedTotals, totals } from "../pipeline.ts";
import { shopTraces } from "../span-stream.ts";
import type { KafkaRun } from "./kafka-fixture.ts";
import { kafkaRun, toPresent } from "./kafka-fixture.ts";

let lease: InfraLease;
let run: KafkaRun;
before(async () => {
  lease = await acquireInfra();
  run = await kafkaRun(lease);
});
after(async () => {
  await run.close();
  await lease.release();
});

test("both stages on Kafka and Redis: totals over all final aggregates equal the generated ones exactly, resource gauges joined", async () => {
  const { spans, expected } = shopTraces({ seed: 7, traces: 300, spreadMs: 20_000 });
  const config = loadConfig(aggregatorConfig, { env: run.env });
  const runtime = await createServiceRuntime({ name: "aggregator", config, create: (context) => createAggregatorService(context) });
  await runtime.start();
  try {
    const present = toPresent(spans, 20_000);
    const records = await run.produce(present);
    assert.ok(records > 12, "spans spread over many records and partitions");
    // CPU gauges of one checkout instance, in the data's first window, keyed by service as the ingest writes them.
    const sampleAt = Math.floor(Math.min(...present.filter((s) => s.resource.service === "checkout").map((s) => s.endMs)));
    const gauges = run.bus.producer();
    await gauges.send(run.topics.resourceMetrics, [{
      key: "checkout",
      value: encodeEnvelope("meshloop.gauges", {
        id: `gauges:checkout:${sampleAt}:1`,
        service: "checkout",
        receivedAtMs: sampleAt,
        samples: [{ instance: "checkout-gauged-0", namespace: null, version: "v1", region: null, zone: null, cluster: null, metric: "container.cpu.utilization", kind: "cpuUtilization", value: 0.73, timeUnixMs: sampleAt }],
      }),
    }]);
    await gauges.close();
    const collected = run.collectAggregates();
    await collected.start();
    const want = expectedTotals(expected);
    await eventually(() => {
      const got = totals(collected.aggregates);
      return [...want].every(([key, counters]) => got.get(key)?.requests === counters.requests);
    }, "aggregates adding up to the generated totals", 90_000).catch((error: unknown) => {
      const got = totals(collected.aggregates);
      const off = [...want].filter(([key, c]) => got.get(key)?.requests !== c.requests).map(([key, c]) => `${key}: ${got.get(key)?.requests} of ${c.requests}`);
      throw new Error(`${(error as Error).message}; ${collected.aggregates.length} aggregates; off: ${off.slice(0, 8).join("; ")}`);
    });
    assertTotals(totals(collected.aggregates), want);
    assert.equal(new Set(collected.ids).size, collected.ids.length, "no aggregate was written twice");
    const gauged = collected.aggregates.flatMap((a) => a.resources).filter((r) => r.instance === "checkout-gauged-0");
    assert.deepEqual(gauged.map((r) => r.cpuUtilization), [0.73], "the gauge joined checkout's window once");

    // The live dependency graph (GET /graph, from Redis) has every edge the aggregates carry.
    const pairs = new Set(collected.aggregates.flatMap((a) => [...a.outbound, ...a.inbound].map((e) => `${e.caller.service}->${e.callee.service}`)));
    const url = runtime.ops.address().url;
    let graph: { edges: Array<{ caller: { service: string }; callee: { service: string }; rate: number }> } = { edges: [] };
    await eventually(async () => {
      graph = (await (await fetch(`${url}/graph`)).json()) as typeof graph;
      return graph.edges.length >= pairs.size;
    }, "the graph published", 20_000);
    assert.deepEqual(new Set(graph.edges.map((e) => `${e.caller.service}->${e.callee.service}`)), pairs);
    const filtered = (await (await fetch(`${url}/graph?service=payments`)).json()) as typeof graph;
    assert.ok(filtered.edges.length > 0 && filtered.edges.every((e) => e.caller.service === "payments" || e.callee.service === "payments"));

    // Collector-compatible series on /metrics.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /traces_service_graph_request_total\{client="[^"]+",server="[^"]+"/);
    assert.match(metrics, /traces_span_metrics_calls_total\{service_name="checkout"/);
  } finally {
    await runtime.stop();
  }
});
