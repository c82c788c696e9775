// Both aggregator stages through the real Kafka and Redis, with checkpoints, run on demand (not a test):
//   pnpm --filter @meshloop/aggregator bench:kafka [traces] [spread ms]
// The spans are produced first (records of one service instance and second, as exporters batch, partitioned by
// trace id as the ingest does), then an aggregator (both stages, one process) starts on the backlog. Reported: stage 1's
// consumption rate (spans until its committed offsets reach the topic's end, per wall second and per CPU second of
// the process), the time until every generated request is in a final aggregate, and the checkpoint cost.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
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

const configFor = (roles: string) => loadConfig(aggregatorConfig, {
  env: {
    ...serviceEnv(lease, prefix),
    MESHLOOP_LOG_LEVEL: "warn",
    MESHLOOP_AGGREGATOR_COMPLETENESS_TIMEOUT: "5s",
    MESHLOOP_AGGREGATOR_ROLES: roles,
    MESHLOOP_HTTP_PORT: "0",
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
const cpuSeconds = (since: NodeJS.CpuUsage) => {
  const cpu = process.cpuUsage(since);
  return (cpu.user + cpu.system) / 1e6;
};

// Phase 1: stage 1 alone in this process, so its CPU is its own. The clock starts at its first committed offset,
// so the consumer group's join (seconds, and the same for any backlog) is reported apart from the rate.
// BENCH_CPU_PROFILE=file.cpuprofile profiles phase 1 only (stage 1's work, not the data generation above).
const profiler = process.env["BENCH_CPU_PROFILE"] ? new Session() : null;
if (profiler) {
  profiler.connect();
  await profiler.post("Profiler.enable");
  await profiler.post("Profiler.start");
}
const stage1 = await createServiceRuntime({ name: "aggregator", config: configFor("stage1"), create: (context) => createAggregatorService(context) });
const began = performance.now();
await stage1.start();
const ends = await bus.endOffsets(topics.spans);
const endTotal = ends.reduce((sum, p) => sum + p.offset, 0);
let joined = 0;
let firstDone = 0;
let cpuAtFirst = process.cpuUsage();
let stage1Done = 0;
let stage1Cpu = 0;
while (performance.now() - began < 600_000) {
  const committed = await bus.committedOffsets(`${prefix}.meshloop-aggregator-stage1`, topics.spans);
  const done = committed.reduce((sum, p) => sum + p.offset, 0);
  if (process.env["BENCH_VERBOSE"]) console.log(`stage 1 committed ${done} of ${endTotal}`);
  if (joined === 0 && done > 0) {
    joined = (performance.now() - began) / 1000;
    firstDone = done;
    cpuAtFirst = process.cpuUsage();
  }
  if (done >= endTotal) {
    stage1Done = (performance.now() - began) / 1000;
    stage1Cpu = cpuSeconds(cpuAtFirst);
    break;
  }
  await sleep(100);
}
if (profiler) {
  const { profile } = await profiler.post("Profiler.stop");
  writeFileSync(process.env["BENCH_CPU_PROFILE"]!, JSON.stringify(profile));
  profiler.disconnect();
}
const measuredSpans = spans.length * (1 - firstDone / endTotal);
const stage1Wall = stage1Done - joined;

// Phase 2: stage 2 merges what stage 1 wrote.
await check.start();
const cpuBefore2 = process.cpuUsage();
const began2 = performance.now();
const stage2 = await createServiceRuntime({ name: "aggregator", config: configFor("stage2"), create: (context) => createAggregatorService(context) });
await stage2.start();
const want = expectedTotals(expected);
let allDone = 0;
let stage2Cpu = 0;
let missing: string[] = [];
while (performance.now() - began2 < 300_000) {
  const got = totals(aggregates);
  missing = [...want].filter(([key, c]) => (got.get(key)?.requests ?? 0) < c.requests).map(([key, c]) => `${key}: ${got.get(key)?.requests ?? 0} of ${c.requests}`);
  if (missing.length === 0) {
    allDone = (performance.now() - began2) / 1000;
    stage2Cpu = cpuSeconds(cpuBefore2);
    break;
  }
  if (process.env["BENCH_VERBOSE"]) {
    const incomplete = aggregates.filter((a) => !a.completeness.complete).length;
    console.log(`${missing.length} series short, e.g. ${missing.slice(0, 2).join("; ")}; ${aggregates.length} aggregates (${incomplete} incomplete), spans ${JSON.stringify(sumSpans(aggregates))}`);
  }
  await sleep(500);
}
const partials = (await bus.endOffsets(topics.partials)).reduce((sum, p) => sum + p.offset, 0);
const checkpointMetric = async (runtime: typeof stage1) =>
  (await runtime.metrics.registry.getSingleMetric("meshloop_aggregator_checkpoint_seconds")?.get())?.values ?? [];
const sums = [...(await checkpointMetric(stage1)), ...(await checkpointMetric(stage2))].filter((v) => (v as { metricName?: string }).metricName?.endsWith("_sum") || (v as { metricName?: string }).metricName?.endsWith("_count"));
console.log(`stage 1 alone: joined the group and committed its first checkpoint after ${joined.toFixed(1)} s, then read the rest (${Math.round(measuredSpans)} spans) in ${stage1Wall.toFixed(1)} s: ` +
  `${Math.round(measuredSpans / stage1Wall)} spans/s wall, ${Math.round(measuredSpans / stage1Cpu)} spans per CPU-second (${stage1Cpu.toFixed(1)} CPU-s)`);
console.log(`stage 2: ${partials} partial records (${(spans.length / Math.max(1, partials)).toFixed(0)} spans each) merged at ${(stage2Cpu * 1e6 / Math.max(1, partials)).toFixed(0)} CPU-µs per partial, ` +
  `${(stage2Cpu * 1e6 / spans.length).toFixed(2)} CPU-µs per span (${stage2Cpu.toFixed(1)} CPU-s, this process incl. the checking consumer)`);
console.log(allDone > 0
  ? `every generated request in a final aggregate ${allDone.toFixed(1)} s after stage 2 started (${aggregates.length} aggregates)`
  : `NOT every request aggregated after 300 s: ${missing.length} series short, e.g. ${missing.slice(0, 3).join("; ")}; spans ${JSON.stringify(sumSpans(aggregates))}`);
console.log(`checkpoints: ${sums.map((v) => `${(v as { metricName?: string }).metricName}{${v.labels["stage"]}}=${Number(v.value).toFixed(2)}`).join(" ")}`);
await stage2.stop();
await stage1.stop();
await check.stop();
await bus.deleteTopics(Object.values(topics)).catch(() => undefined);
await bus.close();
await lease.release();
