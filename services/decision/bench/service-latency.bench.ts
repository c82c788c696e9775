// Time from an aggregate's arrival to its decision's publication, through the whole decision service on the real
// Kafka and Redis, run on demand (not a test): `pnpm --filter @meshloop/decision bench:service [targets] [rate]`.
// Each of `targets` targets gets one window in which a new version appears, which always yields a decision (the
// baseline pinned before the canary gets traffic), at `rate` aggregates per second. Latency is the decision record's
// timestamp minus the aggregate record's timestamp (both set by producers on this machine), so it includes Kafka
// both ways, the consumer's fetch wait, the Redis reads and compare-and-set writes, and the evaluation.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createKafkaBus } from "@meshloop/bus";
import { encodeEnvelope, fromCloudEventMessage, targetKey, topicNames, TOPICS } from "@meshloop/contracts";
import { createServiceRuntime, loadConfig } from "@meshloop/runtime";
import { acquireInfra, serviceEnv, uniqueName } from "@meshloop/test-harness";
import { createDecisionService, decisionConfig } from "../src/service/index.ts";
import { windowAggregate, WINDOW_MS } from "../test/support/aggregates.ts";

const targets = Number(process.argv[2] ?? 2000);
const rate = Number(process.argv[3] ?? 500);

const lease = await acquireInfra();
const prefix = uniqueName("bench");
const topics = topicNames(prefix);
const dir = mkdtempSync(join(tmpdir(), "decision-bench-"));
writeFileSync(join(dir, "p.yaml"), "policies:\n  - name: all\n    canary: { enabled: true }\n");
const bus = createKafkaBus({ brokers: lease.kafkaBrokers, clientId: "decision-bench" });
await bus.ensureTopics((["aggregates", "decisions", "actuations", "control"] as const).map((id) => ({ name: topics[id], partitions: TOPICS[id].partitions })));
const config = loadConfig(decisionConfig, {
  env: {
    ...serviceEnv(lease, prefix),
    MESHLOOP_LOG_LEVEL: "warn",
    MESHLOOP_DECISION_POLICY_FILES: join(dir, "p.yaml"),
    MESHLOOP_DECISION_FROM_BEGINNING: "true",
    // Every target acts once here; the default budget (50 a minute) would rightly hold most of them back.
    MESHLOOP_DECISION_GLOBAL_MAX_ACTIONS_PER_MINUTE: "100000",
  },
});
const runtime = await createServiceRuntime({ name: "decision", config, create: (context) => createDecisionService(context) });
await runtime.start();

const latencies: number[] = [];
const sentAt = new Map<string, number>();
const consumer = bus.consumer({
  groupId: uniqueName("bench-check"),
  topics: [topics.decisions],
  fromBeginning: true,
  handler: async (batch) => {
    for (const record of batch.records) {
      const event = fromCloudEventMessage(record, ["dev.meshloop.decision.v1", "dev.meshloop.pause.v1"]);
      if (event.type !== "dev.meshloop.decision.v1") continue;
      const sent = sentAt.get(targetKey(event.data.target));
      if (sent !== undefined) latencies.push(record.timestamp - sent);
    }
  },
});
await consumer.start();
await sleep(2_000);

const producer = bus.producer();
await producer.connect();
// Windows an hour ahead of the clock: their input delay is 0, as for a caught-up aggregator.
const start = Math.ceil((Date.now() + 3_600_000) / WINDOW_MS) * WINDOW_MS;
const cpuBefore = process.cpuUsage();
const began = performance.now();
for (let k = 0; k < targets; k++) {
  const target = { mesh: "lab" as const, namespace: "bench", service: `svc-${k}` };
  const aggregate = windowAggregate({ startMs: start, target, versions: { v1: { requests: 1000, errors: 5 } }, deployed: ["v1", "v2"] });
  const timestamp = Date.now();
  sentAt.set(targetKey(target), timestamp);
  await producer.send(topics.aggregates, [{ key: targetKey(target), value: encodeEnvelope("meshloop.aggregate", aggregate), timestamp }]);
  const due = began + ((k + 1) * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 0) await sleep(wait);
}
const deadline = Date.now() + 60_000;
while (latencies.length < targets && Date.now() < deadline) await sleep(100);
const elapsed = (performance.now() - began) / 1000;
const cpu = process.cpuUsage(cpuBefore);
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
console.log(`decision service, ${targets} targets at ${rate}/s: ${latencies.length} decisions in ${elapsed.toFixed(1)} s`);
console.log(`aggregate -> decision published: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${latencies.at(-1)} ms`);
const inService = await runtime.metrics.registry.getSingleMetric("meshloop_decision_latency_seconds")?.get();
const buckets = (inService?.values ?? []).filter((v) => (v as { metricName?: string }).metricName === "meshloop_decision_latency_seconds_bucket").map((v) => `<=${v.labels["le"]}s:${v.value}`);
console.log(`in the service (batch arrival -> published), cumulative buckets: ${buckets.join(" ")}`);
console.log(`process CPU (service + bench producer and consumer): ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`);

await producer.close();
await consumer.stop();
await runtime.stop();
await bus.deleteTopics(Object.values(topics)).catch(() => undefined);
await bus.close();
await lease.release();
