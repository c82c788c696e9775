// Both aggregator stages through the real Kafka and Redis, with checkpoints, run on demand (not a test):
//   pnpm --filter @meshloop/aggregator bench:kafka [traces] [spread ms]
// The spans are produced first (records of one service instance and second, as exporters batch, partitioned by
// trace id as the ingest does), then an aggregator (both stages, one process) starts on the backlog. Reported: stage 1's
// consumption rate (spans until its committed offsets reach the topic's end, per wall second and per CPU second of
// the process), the time until every generated request is in a final aggregate, and the checkpoint cost.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createKafkaBus } from "@meshloop/bus";
import { decodeEnvelope, topicNames, TOPICS } from "@meshloop/contracts";
import type { WindowAggregate } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import { acquireInfra, serviceEnv, uniqueName } from "@meshloop/test-harness";
import { aggregatorConfig, createAggregatorService } from "../src/service/index.ts";
import { expectedTotals, sumSpans, totals } from "../test/pipeline.ts";
import { shopTraces, toRecords, T0 } from "../test/span-stream.ts";

const traces = Number(process.argv[2] ?? 20_000);
const lease = await acquireInfra();
const prefix = uniqueName("aggbench");
const topics = topicNames(prefix);
const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "aggregator-bench" });
await bus.ensureTopics((["spans", "resourceMetrics", "partials", "aggregates"] as const).map((id) => ({ name: topics[id], partitions: TOPICS[id].partitions })));

// An hour ago: the backlog is old data, its windows close on record time as stage 1 reads through it.
const spreadMs = Number(process.argv[3] ?? 20_000);
const { spans, expected } = shopTraces({ seed: 5, traces, spreadMs });
const shift = Math.floor((Date.now() - 3_600_000 - T0) / 5_000) * 5_000;
const shifted = spans.map((s) => ({ ...s, startMs: s.startMs + shift, endMs: s.endMs + shift, exportAtMs: s.exportAtMs + shift }));
const records = toRecords(shifted, TOPICS.spans.partitions);
const producer = bus.producer();
await producer.connect();
let recordCount = 0;
for (const partition of records) {
  for (let i = 0; i < partition.length; i += 20) {
    const chunk = partition.slice(i, i + 20);
    await producer.send(topics.spans, chunk.map((r) => ({ value: Buffer.from(r.value), partition: r.partition, timestamp: r.timestampMs })));
    recordCount += chunk.length;
  }
}
await producer.close();
console.log(`produced ${spans.length} spans in ${recordCount} records (${(spans.length / recordCount).toFixed(0)} spans per record)`);

const config = loadConfig(aggregatorConfig, {
  env: {
    ...serviceEnv(lease, prefix),
    MESHLOOP_LOG_LEVEL: "warn",
    MESHLOOP_AGGREGATOR_COMPLETENESS_TIMEOUT: "5s",
  },
});
const aggregates: WindowAggregate[] = [];
const check = bus.consumer({
  groupId: uniqueName("aggbench-check"),
  topics: [topics.aggregates],
  fromBeginning: true,
  handler: async (batch) => {
    for (const record of batch.records) aggregates.push(decodeEnvelope(record.value!, "meshloop.aggregate").data);
  },
});
await check.start();
const runtime = await createServiceRuntime({ name: "aggregator", config, create: (context) => createAggregatorService(context) });
const cpuBefore = process.cpuUsage();
const began = performance.now();
await runtime.start();
const ends = await bus.endOffsets(topics.spans);
const endTotal = ends.reduce((sum, p) => sum + p.offset, 0);
let stage1Done = 0;
let stage1Cpu = 0;
while (performance.now() - began < 600_000) {
  const committed = await bus.committedOffsets(`${prefix}.meshloop-aggregator-stage1`, topics.spans);
  const done = committed.reduce((sum, p) => sum + p.offset, 0);
  if (process.env["BENCH_VERBOSE"]) console.log(`stage 1 committed ${done} of ${endTotal}`);
  if (done >= endTotal) {
    stage1Done = (performance.now() - began) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    stage1Cpu = (cpu.user + cpu.system) / 1e6;
    break;
  }
  await sleep(200);
}
const want = expectedTotals(expected);
let allDone = 0;
let missing: string[] = [];
while (performance.now() - began < 300_000) {
  const got = totals(aggregates);
  missing = [...want].filter(([key, c]) => (got.get(key)?.requests ?? 0) < c.requests).map(([key, c]) => `${key}: ${got.get(key)?.requests ?? 0} of ${c.requests}`);
  if (missing.length === 0) {
    allDone = (performance.now() - began) / 1000;
    break;
  }
  if (process.env["BENCH_VERBOSE"]) {
    const incomplete = aggregates.filter((a) => !a.completeness.complete).length;
    console.log(`${missing.length} series short, e.g. ${missing.slice(0, 2).join("; ")}; ${aggregates.length} aggregates (${incomplete} incomplete), spans ${JSON.stringify(sumSpans(aggregates))}`);
  }
  await sleep(2_000);
}
const checkpoints = await runtime.metrics.registry.getSingleMetric("meshloop_aggregator_checkpoint_seconds")?.get();
const sums = (checkpoints?.values ?? []).filter((v) => (v as { metricName?: string }).metricName?.endsWith("_sum") || (v as { metricName?: string }).metricName?.endsWith("_count"));
console.log(`stage 1 consumed the backlog in ${stage1Done.toFixed(1)} s: ${Math.round(spans.length / stage1Done)} spans/s wall, ${Math.round(spans.length / stage1Cpu)} spans per CPU-second of this process (both stages, the checking consumer)`);
console.log(allDone > 0
  ? `every generated request in a final aggregate after ${allDone.toFixed(1)} s (${aggregates.length} aggregates)`
  : `NOT every request aggregated after 300 s: ${missing.length} series short, e.g. ${missing.slice(0, 3).join("; ")}; spans ${JSON.stringify(sumSpans(aggregates))}`);
console.log(`checkpoints: ${sums.map((v) => `${(v as { metricName?: string }).metricName}{${v.labels["stage"]}}=${Number(v.value).toFixed(2)}`).join(" ")}`);
await runtime.stop();
await check.stop();
await bus.deleteTopics(Object.values(topics)).catch(() => undefined);
await bus.close();
await lease.release();
